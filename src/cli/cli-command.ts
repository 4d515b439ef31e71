import { runCli } from './run-cli';

/**
 * One command of `npm run carrel -- <command>`: its name and one-line summary
 * for the command list, its usage for `--help` and refusals, and the frame's
 * parse and job (run-cli.ts: exit 2 on bad arguments, `carrel <command>
 * failed: <why>` and exit 1 when the job throws).
 */
export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  /** Runs the command with the arguments after its name. */
  start(): void;
}

export function cliCommand<Args>(spec: {
  name: string;
  summary: string;
  usage: string;
  parse(argv: string[]): Args | string;
  run(args: Args): Promise<number>;
}): CliCommand {
  return {
    name: spec.name,
    summary: spec.summary,
    usage: spec.usage,
    start: () => runCli(`carrel ${spec.name}`, spec.usage, (argv) => spec.parse(argv.slice(1)), spec.run),
  };
}
