/**
 * The frame every command-line job shares (`npm run seed`, `purge`,
 * `sis:load`): `--help`, arguments refused with the usage and exit code 2,
 * and a job that throws ends in one `<name> failed: <why>` line and
 * `failureCode`. The job returns its own exit code otherwise.
 */
export function runCli<Args>(
  name: string,
  usage: string,
  parse: (argv: string[]) => Args | string,
  job: (args: Args) => Promise<number>,
  failureCode = 1,
): void {
  const argv = process.argv.slice(2);
  const run = async (): Promise<number> => {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(usage);
      return 0;
    }
    const args = parse(argv);
    if (typeof args === 'string') {
      console.error(`${args}\n${usage}`);
      return 2;
    }
    return job(args);
  };
  run().then(
    (code) => process.exit(code),
    (e) => {
      console.error(`${name} failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(failureCode);
    },
  );
}
