import { Client } from 'pg';
import { sqlStatementCount } from '../../src/db/sql-logger';
import { captureLog } from '../support/log-capture';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 15 item 4: /health/live says the process answers, /health/ready that the database answers and has every
 * migration (and /health, kept for older monitors, is ready's twin). Each test has a server of its own: the
 * readiness check remembers that the migrations were current.
 */
let app: TestApp | undefined;
// A failed readiness check is logged as an error: kept out of the test's output.
let log: ReturnType<typeof captureLog>;
beforeEach(() => (log = captureLog('warn')));
afterEach(async () => {
  await app?.close();
  app = undefined;
  log.restore();
});

const origin = (a: TestApp) => new URL(a.url).origin;

async function get(a: TestApp, path: string, method = 'GET') {
  const res = await fetch(`${origin(a)}${path}`, { method });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** SQL on the test server's administrative database (a database cannot refuse connections to itself). */
async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: process.env.CARREL_TEST_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

test('15.4 /health/live answers 200 to GET and HEAD, and 405 to other methods', async () => {
  app = await startTestApp();
  expect(await get(app, '/health/live')).toEqual({ status: 200, body: { status: 'ok' } });
  expect((await get(app, '/health/live', 'HEAD')).status).toBe(200);
  expect((await get(app, '/health/live', 'POST')).status).toBe(405);
});

test('15.4 /health/ready and /health answer 200 with the database reachable and every migration applied', async () => {
  app = await startTestApp();
  const ready = { status: 200, body: { status: 'ok', database: 'ok', migrations: 'current' } };
  expect(await get(app, '/health/ready')).toEqual(ready);
  expect(await get(app, '/health')).toEqual(ready);
  expect((await get(app, '/health/ready', 'HEAD')).status).toBe(200);
});

test('15.4 a migration this code needs and the database lacks: /health/ready is 503 "pending", live stays 200', async () => {
  app = await startTestApp();
  const [last] = await app.db.dataSource.query(`SELECT id, timestamp, name FROM migrations ORDER BY id DESC LIMIT 1`);
  await app.db.dataSource.query(`DELETE FROM migrations WHERE id = $1`, [last.id]);
  expect(await get(app, '/health/ready')).toEqual({ status: 503, body: { status: 'unavailable', database: 'ok', migrations: 'pending' } });
  expect((await get(app, '/health')).status).toBe(503);
  expect((await get(app, '/health/live')).status).toBe(200);
  await app.db.dataSource.query(`INSERT INTO migrations (timestamp, name) VALUES ($1, $2)`, [last.timestamp, last.name]);
  expect((await get(app, '/health/ready')).status).toBe(200);
});

test('15.4 the database refusing connections: /health/ready is 503 "unreachable", live stays 200, ready again once it is back', async () => {
  app = await startTestApp();
  expect((await get(app, '/health/ready')).status).toBe(200);
  const name = new URL(app.db.url).pathname.slice(1);
  await admin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
  try {
    await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
    // The ready answer before stands for a second (src/server/health.ts).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await get(app, '/health/ready')).toEqual({ status: 503, body: { status: 'unavailable', database: 'unreachable', migrations: 'unknown' } });
    expect((await get(app, '/health/live')).status).toBe(200);
  } finally {
    await admin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`);
  }
  expect((await get(app, '/health/ready')).status).toBe(200);
});

test('15.4 a database unreachable before the first check: 503 "unreachable", not "pending"', async () => {
  app = await startTestApp();
  const name = new URL(app.db.url).pathname.slice(1);
  await admin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
  try {
    await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
    expect(await get(app, '/health/ready')).toEqual({ status: 503, body: { status: 'unavailable', database: 'unreachable', migrations: 'unknown' } });
  } finally {
    await admin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`);
  }
  expect((await get(app, '/health/ready')).status).toBe(200);
});

test('15.4 a flood of readiness probes without credentials costs the database about one statement a second, not one each', async () => {
  app = await startTestApp();
  expect((await get(app, '/health/ready')).status).toBe(200);
  const before = sqlStatementCount();
  const answers = await Promise.all(Array.from({ length: 50 }, () => get(app!, '/health/ready')));
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
  expect(sqlStatementCount() - before).toBeLessThan(10);
});
