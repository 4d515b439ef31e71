import { spawn } from 'node:child_process';
import { carrelEnv, ROOT } from '../support/carrel-process';

/** `npm run carrel` without its build: src/cli/carrel-cli.ts compiled as it loads, in a real process. */
const CARREL_CLI = [process.execPath, '-r', './bench/swc-register.js', 'src/cli/carrel-cli.ts'];

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `carrel <args>` to its exit with only `vars` of Carrel's settings in its environment (carrelEnv) and `stdin`
 * piped to it (then closed), as an operator's shell would.
 */
export function runCarrel(args: string[], vars: Record<string, string>, stdin = '', timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(CARREL_CLI[0], [...CARREL_CLI.slice(1), ...args], { cwd: ROOT, env: carrelEnv(vars), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A command that exits before reading its input closes the pipe: not this test's concern.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}
