import { ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

/**
 * `npm start` as an operator runs it: prestart compiles TypeScript, then the
 * compiled server migrates an empty database, seeds the demo data and listens.
 * Nothing here runs in-process: every check goes over HTTP to the child.
 */
const ROOT = path.resolve(__dirname, '../..');
// At least 8 characters and none of the demo operator identifiers (admin, circ_main, circ_law, usermgr, fso).
const ADMIN_PASSWORD = 'Quiet-Lantern-2719';
const READY_TIMEOUT_MS = 120_000;

const dbName = `carrel_start_${crypto.randomBytes(6).toString('hex')}`;
let dataDir: string;
let child: ChildProcess;
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let output = '';
let baseUrl: string;
let readyAfterMs: number;
let token: string;

async function admin(sql: string, params: unknown[] = []): Promise<any[]> {
  const client = new Client({ connectionString: process.env.CARREL_TEST_ADMIN_URL });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

function databaseUrl(): string {
  const url = new URL(process.env.CARREL_TEST_ADMIN_URL!);
  url.pathname = `/${dbName}`;
  return url.toString();
}

const running = () => child && child.exitCode === null && child.signalCode === null;

/** Resolves with the port once a line shows the GraphQL endpoint; rejects if the process exits first or time runs out. */
function waitForEndpoint(): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no /graphql line within ${READY_TIMEOUT_MS} ms; output:\n${output}`)), READY_TIMEOUT_MS);
    const onData = () => {
      const match = /http:\/\/localhost:(\d+)\/graphql/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (code ${code}, signal ${signal}) before the server was ready; output:\n${output}`));
    });
  });
}

beforeAll(async () => {
  await admin(`CREATE DATABASE ${dbName}`);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-start-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl(),
    PORT: '0',
    CARREL_ADMIN_PASSWORD: ADMIN_PASSWORD,
    CARREL_DATA_DIR: dataDir,
  };
  delete env.NODE_ENV; // jest sets 'test'; `npm start` from a shell has none.
  const started = Date.now();
  // detached: its own process group, so afterAll can kill npm, sh and node together.
  child = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const port = await waitForEndpoint();
  readyAfterMs = Date.now() - started;
  baseUrl = `http://127.0.0.1:${port}`;
  console.log(`npm start: server ready on port ${port} after ${readyAfterMs} ms (build + migrations + demo seed + listen)`);
}, READY_TIMEOUT_MS + 30_000);

afterAll(async () => {
  // The whole process group, whatever happened: a server orphaned by a dead npm would keep the port and this worker alive.
  if (child?.pid) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* the group is gone already */
    }
    if (running()) await exited;
  }
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function gql(query: string, variables?: Record<string, unknown>, bearer?: string) {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: { message: string }[] };
}

test('npm start on an empty database migrates it, seeds the demo and prints the real port of PORT=0 in its /graphql line', () => {
  expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(Number(new URL(baseUrl).port)).toBeGreaterThan(0);
  expect(output).toMatch(/applied migration InitialSchema/);
  expect(output).toMatch(/seeded demo institution DEMO/);
});

test('GET /health of the started process answers status ok', async () => {
  const res = await fetch(`${baseUrl}/health`);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ status: 'ok' });
});

test('admin logs in over HTTP with CARREL_ADMIN_PASSWORD and gets a token', async () => {
  const res = await gql(`mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }`, { i: 'admin', p: ADMIN_PASSWORD });
  expect(res.errors).toBeUndefined();
  token = res.data.login.token;
  expect(token).toMatch(/^ey/);
});

test('me with that token is the admin operator', async () => {
  const res = await gql(`{ me { primaryIdentifier } }`, {}, token);
  expect(res.errors).toBeUndefined();
  expect(res.data.me.primaryIdentifier).toBe('admin');
});

test('SIGTERM makes npm start exit with code 0 within 10 s and the port closes', async () => {
  const started = Date.now();
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running 10 s after SIGTERM; output:\n${output}`)), 10_000);
    }),
  ]).finally(() => clearTimeout(timer));
  expect(result).toEqual({ code: 0, signal: null });
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(output).toMatch(/SIGTERM: draining requests and stopping/);
  await expect(fetch(`${baseUrl}/health`)).rejects.toThrow();
}, 15_000);

test('after SIGTERM the process has closed every connection to its database', async () => {
  const [row] = await admin(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1`, [dbName]);
  expect(row.n).toBe(0);
});
