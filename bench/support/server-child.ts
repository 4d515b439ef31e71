import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { PIN_SERVER } from './machine';

/**
 * The server under test as a child process (NODE_ENV=production, pool 10),
 * pinned to core 0 where the machine allows, so its CPU is measured apart
 * from the load generator's.
 */
export interface Child {
  process: ChildProcess;
  pid: number;
  port: number;
  /** SIGTERM (main.ts drains and exits 0), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '..', '..');
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of liveChildren) c.kill('SIGKILL');
});

/** Kills every child at once (a benchmark aborting on its time budget or a signal). */
export function killChildren(): void {
  for (const c of liveChildren) c.kill('SIGKILL');
}

/** `src/main.ts` through the swc hook; `--dist` benchmarks use the build instead. */
export const SOURCE_ENTRY = ['-r', './bench/swc-register.js', 'src/main.ts'];
export const DIST_ENTRY = ['dist/src/main.js'];

/** `pin`: run the server on core 0 alone (the default where the machine has two cores or more), or anywhere. */
export async function startChild(entry: string[], env: Record<string, string>, nodeFlags: string[] = [], pin = PIN_SERVER): Promise<Child> {
  const nodeArgs = [...nodeFlags, ...entry];
  const [command, args] = pin ? ['taskset', ['-c', '0', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0', NODE_ENV: 'production', CARREL_DB_POOL_SIZE: '10', ...env };
  delete childEnv.CARREL_LOG_SQL;
  // taskset execs node, so the pid is the server's.
  const child = spawn(command, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  liveChildren.add(child);
  void exited.then(() => liveChildren.delete(child));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server printed no endpoint within 60 s:\n${output}`)), 60_000);
    const onData = () => {
      const match = /ready in \d+ ms[\s\S]*http:\/\/localhost:(\d+)\/graphql/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the server exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready:\n${output}`));
    });
  });
  return {
    process: child,
    pid: child.pid!,
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
