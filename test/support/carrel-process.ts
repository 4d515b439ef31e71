import { ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';

/**
 * Carrel as an operator runs it: a real process (`npm start`, or src/main.ts through the swc hook for the cases that
 * need no build), observed only through its output, its exit and HTTP.
 */
export const ROOT = path.resolve(__dirname, '../..');

/** src/main.ts compiled as it loads (bench/swc-register.js): a real process, without `npm start`'s build. */
export const MAIN_FROM_SOURCE = [process.execPath, '-r', './bench/swc-register.js', 'src/main.ts'];

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CarrelProcess {
  child: ChildProcess;
  /** Everything written so far, stdout and stderr interleaved. */
  output(): string;
  exited: Promise<Exit>;
  running(): boolean;
  /** Resolves with the port of the `/graphql` line; rejects if the process exits first or `timeoutMs` passes. */
  waitForEndpoint(timeoutMs: number): Promise<number>;
  /** The whole process group, whatever state it is in: a server orphaned by a dead npm would keep its port. */
  kill(): Promise<void>;
}

/**
 * The environment of a shell with only `vars` set for Carrel: jest's NODE_ENV=test and any CARREL_* or
 * DATABASE_URL of the machine are left out, so each test states what it runs with.
 */
export function carrelEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_ENV' || key === 'DATABASE_URL' || key === 'PORT' || (key.startsWith('CARREL_') && !key.startsWith('CARREL_TEST_'))) continue;
    env[key] = value;
  }
  return { ...env, ...vars };
}

export function startCarrel(command: string[], env: NodeJS.ProcessEnv): CarrelProcess {
  let output = '';
  // detached: its own process group, so kill() reaches npm, sh and node together.
  const child = spawn(command[0], command.slice(1), { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => output,
    exited,
    running,
    waitForEndpoint(timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no /graphql line within ${timeoutMs} ms; output:\n${output}`)), timeoutMs);
        const onData = () => {
          const match = /http:\/\/localhost:(\d+)\/graphql/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(Number(match[1]));
          }
        };
        child.stdout!.on('data', onData);
        // The line may have come before this call (a test that waits for several processes one after another).
        onData();
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`Carrel exited (code ${code}, signal ${signal}) before the server was ready; output:\n${output}`));
        });
      });
    },
    async kill() {
      if (!child.pid) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* the group is gone already */
      }
      if (running()) await exited;
    },
  };
}

/** Runs Carrel to its exit (it is expected to refuse to start) and returns its exit and output. */
export async function runToExit(command: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Exit & { output: string }> {
  const carrel = startCarrel(command, env);
  const timer = setTimeout(() => void carrel.kill(), timeoutMs);
  try {
    return { ...(await carrel.exited), output: carrel.output() };
  } finally {
    clearTimeout(timer);
    await carrel.kill();
  }
}

/** SQL on the test server's administrative database. */
export async function admin(sql: string, params: unknown[] = []): Promise<any[]> {
  const client = new Client({ connectionString: process.env.CARREL_TEST_ADMIN_URL });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** A new database with nothing in it (not even migrations), for one process to start on. */
export async function createEmptyDatabase(prefix: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(process.env.CARREL_TEST_ADMIN_URL!);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => undefined) };
}
