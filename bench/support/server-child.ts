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

export interface ChildOptions {
  /**
   * Receives what the child writes (stdout and stderr; what came before readiness at that moment, kept until then for
   * the error when the child does not start). Without it, the output is read and dropped: a server that logs each
   * request must never block on a full pipe, and a run's log kept in memory would grow without bound.
   */
  onOutput?: (chunk: string) => void;
  /** Listen on this port and wait for /health/live, instead of reading the port from the start-up lines: for a server whose log level hides them. */
  port?: number;
}

/** `pin`: run the server on core 0 alone (the default where the machine has two cores or more), or anywhere. */
export async function startChild(entry: string[], env: Record<string, string>, nodeFlags: string[] = [], pin = PIN_SERVER, options: ChildOptions = {}): Promise<Child> {
  const onOutput = options.onOutput ?? (() => {});
  const nodeArgs = [...nodeFlags, ...entry];
  const [command, args] = pin ? ['taskset', ['-c', '0', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: String(options.port ?? 0), NODE_ENV: 'production', CARREL_DB_POOL_SIZE: '10', ...env };
  delete childEnv.CARREL_LOG_SQL;
  // taskset execs node, so the pid is the server's.
  const child = spawn(command, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let ready = false;
  const take = (c: string) => (ready ? onOutput(c) : (output += c));
  child.stdout!.setEncoding('utf8').on('data', take);
  child.stderr!.setEncoding('utf8').on('data', take);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  liveChildren.add(child);
  void exited.then(() => liveChildren.delete(child));
  const port = await new Promise<number>((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      settled = true;
      reject(new Error(`${why}:\n${output}`));
    };
    const timer = setTimeout(() => fail('the server was not ready within 60 s'), 60_000);
    const becameReady = (port: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ready = true;
      onOutput(output);
      output = '';
      resolve(port);
    };
    void exited.then(() => {
      clearTimeout(timer);
      if (!settled) fail(`the server exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready`);
    });
    const given = options.port;
    if (given !== undefined) {
      void (async () => {
        while (!settled) {
          if (await fetch(`http://127.0.0.1:${given}/health/live`).then((r) => r.ok, () => false)) return becameReady(given);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      return;
    }
    const onData = () => {
      const match = /ready in \d+ ms[\s\S]*http:\/\/localhost:(\d+)\/graphql/.exec(output);
      if (match) {
        child.stdout!.off('data', onData);
        becameReady(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
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
