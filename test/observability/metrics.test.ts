import net from 'node:net';
import { freePort } from '../support/free-port';
import { Client } from 'pg';
import { MAX_OPERATION_NAMES, operationLabel } from '../../src/observability/metrics';
import { CarrelProcess, carrelEnv, MAIN_FROM_SOURCE, startCarrel } from '../support/carrel-process';
import { createInstitution, createPerson, PASSWORD } from '../support/fixtures';
import { postGraphQL } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-db';
import { pause, subscribe } from '../support/ws-client';

/**
 * Issue 15 item 2: `/metrics` of real processes, scraped over HTTP and parsed here. One database for the file and
 * four processes started together on it: the main port behind a token; neither token nor port (not served); a
 * metrics port of its own with a token; and one without.
 */
const SECRET = 'metrics-test-token-secret-of-at-least-32-bytes';
const METRICS_TOKEN = 'metrics-test-scrape-token-7Hq2';
const POOL_SIZE = 4;
const STATEMENT_TIMEOUT_MS = 1000;
const READY_TIMEOUT_MS = 90_000;
jest.setTimeout(180_000);

let database: TestDatabase;
let token: string;
let patronId: string;
const started: CarrelProcess[] = [];
/** Base URLs: `main` has the token on its own port, `closed` serves no metrics, `ported`/`open` have a metrics port. */
const base = {} as Record<'main' | 'closed' | 'ported' | 'open', string>;
const metricsBase = {} as Record<'ported' | 'open', string>;

function start(vars: Record<string, string>): CarrelProcess {
  const carrel = startCarrel(MAIN_FROM_SOURCE, carrelEnv({
    DATABASE_URL: database.url, PORT: '0', CARREL_TOKEN_SECRET: SECRET, CARREL_SEED_DEMO: 'false', CARREL_DB_POOL_SIZE: String(POOL_SIZE),
    ...vars,
  }));
  started.push(carrel);
  return carrel;
}

const endpoint = async (carrel: CarrelProcess) => `http://127.0.0.1:${await carrel.waitForEndpoint(READY_TIMEOUT_MS)}`;
/** The metrics port's address, as the start-up line after the endpoint's gives it. */
async function metricsAddress(carrel: CarrelProcess): Promise<string> {
  for (let waited = 0; waited < 5000; waited += 20) {
    const address = /metrics: (http:\/\/[\d.]+:\d+)\/metrics/.exec(carrel.output())?.[1];
    if (address) return address;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no metrics line; output:\n${carrel.output()}`);
}

beforeAll(async () => {
  database = await createTestDatabase();
  const inst = await createInstitution(database.dataSource, 'METRICS');
  await createPerson(database.dataSource, inst, { primaryIdentifier: 'metrics_um', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await createPerson(database.dataSource, inst, { primaryIdentifier: 'metrics_locked', roles: [['USER_MANAGER', 'INSTITUTION']] });
  patronId = await createPerson(database.dataSource, inst, { primaryIdentifier: 'metrics_patron', recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']] });
  const [portWithToken, portWithout] = [await freePort(), await freePort()];
  const processes = {
    main: start({
      CARREL_METRICS_TOKEN: METRICS_TOKEN, CARREL_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      // Three wrong passwords lock an account, without waits before: the lockout counter moves within a test.
      CARREL_LOGIN_MAX_FAILURES: '3', CARREL_LOGIN_FREE_FAILURES: '5',
    }),
    closed: start({}),
    ported: start({ CARREL_METRICS_PORT: String(portWithToken), CARREL_METRICS_TOKEN: METRICS_TOKEN }),
    open: start({ CARREL_METRICS_PORT: String(portWithout) }),
  };
  await Promise.all(Object.entries(processes).map(async ([name, carrel]) => (base[name as keyof typeof base] = await endpoint(carrel))));
  metricsBase.ported = await metricsAddress(processes.ported);
  metricsBase.open = await metricsAddress(processes.open);
  token = await login('metrics_um', PASSWORD);
});
afterAll(async () => {
  await Promise.all(started.map((p) => p.kill()));
  await database?.drop();
});


/** A GraphQL request to the main process as the User Manager, or without credentials when `bearer` is null. */
const gql = (query: string, variables: Record<string, unknown> = {}, bearer: string | null = token) =>
  postGraphQL(`${base.main}/graphql`, query, variables, bearer ?? undefined);

async function login(identifier: string, password: string): Promise<string> {
  const res = await gql(`mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }`, { i: identifier, p: password }, null);
  if (!res.data?.login?.token) throw new Error(`login of ${identifier} failed: ${JSON.stringify(res.errors)}`);
  return res.data.login.token;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus's text format (version 0.0.4): one sample a line, `name{label="value",...} value`, comments skipped. */
function parsePrometheus(text: string): Sample[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).map((line) => {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    return { name: match[1], labels, value: Number(match[3]) };
  });
}

async function scrape(url = `${base.main}/metrics`, headers: Record<string, string> = { authorization: `Bearer ${METRICS_TOKEN}` }): Promise<Sample[]> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`scrape of ${url}: ${res.status}`);
  return parsePrometheus(await res.text());
}

/** The value of the one sample of `name` whose labels include `labels` (0 when there is none yet). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

const status = async (url: string, init: RequestInit = {}) => (await fetch(url, init)).status;

test('15.2 without CARREL_METRICS_TOKEN or CARREL_METRICS_PORT, /metrics is not served (404)', async () => {
  expect(await status(`${base.closed}/metrics`)).toBe(404);
  expect(await status(`${base.closed}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).toBe(404);
});

test('15.2 with a token, /metrics refuses (401) no token, a wrong one, one differing only in length, another scheme, or one in the query string', async () => {
  const url = `${base.main}/metrics`;
  for (const authorization of [undefined, 'Bearer wrong-token-of-the-same-size', `Bearer ${METRICS_TOKEN}x`, `Bearer ${METRICS_TOKEN.slice(0, -1)}`,
    'Bearer ', `Basic ${Buffer.from(`prometheus:${METRICS_TOKEN}`).toString('base64')}`, METRICS_TOKEN]) {
    const res = await fetch(url, { headers: authorization === undefined ? {} : { authorization } });
    expect({ authorization, status: res.status }).toEqual({ authorization, status: 401 });
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.text()).not.toContain('carrel_');
  }
  for (const query of [`token=${METRICS_TOKEN}`, `access_token=${METRICS_TOKEN}`, `authorization=Bearer%20${METRICS_TOKEN}`]) {
    expect({ query, status: await status(`${url}?${query}`) }).toEqual({ query, status: 401 });
  }
});

test('15.2 with the token, /metrics is Prometheus text (version 0.0.4); HEAD answers without a body, POST is 405', async () => {
  const headers = { authorization: `Bearer ${METRICS_TOKEN}` };
  const res = await fetch(`${base.main}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const samples = parsePrometheus(await res.text());
  expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);

  const head = await fetch(`${base.main}/metrics`, { method: 'HEAD', headers });
  expect(head.status).toBe(200);
  expect(await head.text()).toBe('');
  expect(await status(`${base.main}/metrics`, { method: 'HEAD' })).toBe(401);
  const post = await fetch(`${base.main}/metrics`, { method: 'POST', headers });
  expect(post.status).toBe(405);
  expect(post.headers.get('allow')).toBe('GET, HEAD');
});

test('15.2 requests and operations are counted by route and status, and by operation name, type and result', async () => {
  const before = await scrape();
  for (let i = 0; i < 3; i++) expect((await gql('query MetricsOk { me { id } }')).errors).toBeUndefined();
  expect((await gql('query MetricsForbidden { apiKeys { id } }')).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect((await gql('query MetricsAnonymous { me { id } }', {}, null)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  expect((await gql('mutation MetricsRefused { revokeApiKey(id: "00000000-0000-4000-8000-000000000000") { id } }')).errors).toBeDefined();
  const after = await scrape();
  const moved = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);

  expect(moved('carrel_graphql_operations_total', { operation: 'MetricsOk', type: 'query', result: 'ok' })).toBe(3);
  expect(moved('carrel_graphql_operations_total', { operation: 'MetricsForbidden', type: 'query', result: 'FORBIDDEN' })).toBe(1);
  expect(moved('carrel_graphql_operations_total', { operation: 'MetricsAnonymous', type: 'query', result: 'UNAUTHENTICATED' })).toBe(1);
  expect(moved('carrel_graphql_operations_total', { operation: 'MetricsRefused', type: 'mutation', result: 'FORBIDDEN' })).toBe(1);
  expect(moved('carrel_http_requests_total', { method: 'POST', route: '/graphql', status: '200' })).toBe(6);
  expect(moved('carrel_http_requests_total', { method: 'GET', route: '/metrics', status: '200' })).toBe(1);

  // Histograms: every observation in the +Inf bucket, the count equal to it, a positive sum.
  const okLabels = { operation: 'MetricsOk', type: 'query', result: 'ok' };
  expect(valueOf(after, 'carrel_graphql_operation_duration_seconds_count', okLabels)).toBe(3);
  expect(valueOf(after, 'carrel_graphql_operation_duration_seconds_bucket', { ...okLabels, le: '+Inf' })).toBe(3);
  expect(valueOf(after, 'carrel_graphql_operation_duration_seconds_sum', okLabels)).toBeGreaterThan(0);
  const httpLabels = { method: 'POST', route: '/graphql', status: '200' };
  expect(valueOf(after, 'carrel_http_request_duration_seconds_count', httpLabels)).toBe(valueOf(after, 'carrel_http_requests_total', httpLabels));
  expect(valueOf(after, 'carrel_http_request_duration_seconds_bucket', { ...httpLabels, le: '0.005' }))
    .toBeLessThanOrEqual(valueOf(after, 'carrel_http_request_duration_seconds_bucket', { ...httpLabels, le: '10' }));
});

test('15.2 a path that is not a route is counted as "unmatched", not by its path', async () => {
  await fetch(`${base.main}/no/such/path/4f1e`);
  const samples = await scrape();
  expect(valueOf(samples, 'carrel_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(1);
  expect(samples.filter((s) => Object.values(s.labels).some((v) => v.includes('4f1e')))).toEqual([]);
});

test('15.2 the pool gauges: max is CARREL_DB_POOL_SIZE, in use and idle within it, no one waiting when idle', async () => {
  const samples = await scrape();
  expect(valueOf(samples, 'carrel_db_pool_connections', { state: 'max' })).toBe(POOL_SIZE);
  const inUse = valueOf(samples, 'carrel_db_pool_connections', { state: 'in_use' });
  const idle = valueOf(samples, 'carrel_db_pool_connections', { state: 'idle' });
  expect(inUse + idle).toBeGreaterThan(0);
  expect(inUse + idle).toBeLessThanOrEqual(POOL_SIZE);
  expect(valueOf(samples, 'carrel_db_pool_waiting')).toBe(0);
});

test('15.2 failed sign-ins are counted by reason, and the lockout they cause once', async () => {
  const before = await scrape();
  const LOGIN = `mutation($p: String!) { login(identifier: "metrics_locked", password: $p) { token } }`;
  for (let i = 0; i < 3; i++) expect((await gql(LOGIN, { p: `wrong password ${i}` }, null)).errors).toBeDefined();
  // Locked: the right password is refused too, without being checked.
  expect((await gql(LOGIN, { p: PASSWORD }, null)).errors).toBeDefined();
  const after = await scrape();
  const moved = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
  expect(moved('carrel_login_failures_total', { reason: 'credentials' })).toBe(3);
  expect(moved('carrel_login_failures_total', { reason: 'locked' })).toBe(1);
  expect(moved('carrel_login_lockouts_total')).toBe(1);
});

test('15.2 a statement cancelled by the statement timeout is counted, and its operation has result TIMEOUT', async () => {
  const before = await scrape();
  const other = new Client({ connectionString: database.url });
  await other.connect();
  try {
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM app_user WHERE id = $1 FOR UPDATE', [patronId]);
    const res = await gql('mutation MetricsSlow($id: ID!) { updateUser(id: $id, input: { firstName: "Slow" }) { id } }', { id: patronId });
    expect(res.errors?.[0].extensions?.code).toBe('TIMEOUT');
  } finally {
    await other.query('ROLLBACK');
    await other.end();
  }
  const after = await scrape();
  expect(valueOf(after, 'carrel_db_statement_timeouts_total') - valueOf(before, 'carrel_db_statement_timeouts_total')).toBe(1);
  expect(valueOf(after, 'carrel_graphql_operations_total', { operation: 'MetricsSlow', type: 'mutation', result: 'TIMEOUT' })).toBe(1);
});

test('15.2 carrel_subscriptions_active counts the open subscriptions, and each event sent to one is counted as delivered', async () => {
  const sub = subscribe(`${base.main}/graphql`, { authorization: `Bearer ${token}` }, 'subscription($u: ID) { userChanged(userId: $u) { type } }', { u: patronId });
  try {
    expect(await sub.acknowledged).toBe(true);
    await pause(200);
    const open = await scrape();
    expect(valueOf(open, 'carrel_subscriptions_active')).toBe(1);
    expect((await gql('mutation($id: ID!) { updateUser(id: $id, input: { firstName: "Evented" }) { id } }', { id: patronId })).errors).toBeUndefined();
    await sub.waitFor(1);
    const delivered = await scrape();
    expect(valueOf(delivered, 'carrel_events_delivered_total', { transport: 'subscription' }) - valueOf(open, 'carrel_events_delivered_total', { transport: 'subscription' }))
      .toBe(1);
  } finally {
    await sub.dispose();
  }
  await pause(200);
  expect(valueOf(await scrape(), 'carrel_subscriptions_active')).toBe(0);
});

test('15.2 the outbox lag histogram has observed the reads of the outbox that found events', async () => {
  const samples = await scrape();
  expect(valueOf(samples, 'carrel_outbox_lag_seconds_count')).toBeGreaterThanOrEqual(1);
  expect(valueOf(samples, 'carrel_outbox_lag_seconds_bucket', { le: '+Inf' })).toBe(valueOf(samples, 'carrel_outbox_lag_seconds_count'));
});

test('15.2 operation names are bounded: past MAX_OPERATION_NAMES distinct names, new ones count as "(other)"', () => {
  expect(operationLabel(null)).toBe('(anonymous)');
  const names = Array.from({ length: MAX_OPERATION_NAMES + 50 }, (_, i) => `Bounded${i}`);
  const labels = names.map(operationLabel);
  expect(new Set(labels).size).toBe(MAX_OPERATION_NAMES + 1);
  expect(labels.filter((l) => l === '(other)')).toHaveLength(50);
  // A name seen while there was room keeps its label.
  expect(operationLabel('Bounded0')).toBe('Bounded0');
  expect(operationLabel('BoundedNew')).toBe('(other)');
});

test('15.2 a client sending many distinct operation names, or names that are not GraphQL names, adds no more than the bound of label values', async () => {
  const distinct = MAX_OPERATION_NAMES + 30;
  for (let i = 0; i < distinct; i += 10) {
    await Promise.all(Array.from({ length: 10 }, (_, j) => gql(`query Flood${i + j} { __typename }`)));
  }
  // An operationName the document does not define, and one that is no GraphQL name at all.
  await fetch(`${base.main}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ __typename }', operationName: 'x"} 1\ncarrel_forged_total 9' }),
  });
  const samples = await scrape();
  const operations = new Set(samples.filter((s) => s.name === 'carrel_graphql_operations_total').map((s) => s.labels.operation));
  expect(operations.size).toBeLessThanOrEqual(MAX_OPERATION_NAMES + 2);
  expect(operations.has('(other)')).toBe(true);
  expect(samples.some((s) => s.name === 'carrel_forged_total')).toBe(false);
  expect([...operations].every((name) => /^[_A-Za-z][_0-9A-Za-z]*$|^\((other|anonymous)\)$/.test(name))).toBe(true);
});

test('15.2 CARREL_METRICS_PORT: /metrics is served on that port, on 127.0.0.1 only, and not on the main port', async () => {
  expect(metricsBase.open).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const samples = await scrape(`${metricsBase.open}/metrics`, {});
  expect(valueOf(samples, 'carrel_db_pool_connections', { state: 'max' })).toBe(POOL_SIZE);
  expect(await status(`${base.open}/metrics`)).toBe(404);
  expect(await status(`${metricsBase.open}/graphql`)).toBe(404);
  // The main port listens on every address, 127.0.0.2 included (Linux's loopback is 127/8); the metrics port only on 127.0.0.1.
  const port = (url: string) => Number(new URL(url).port);
  expect(await connects('127.0.0.2', port(base.open))).toBe(true);
  expect(await connects('127.0.0.2', port(metricsBase.open))).toBe(false);
});

test('15.2 CARREL_METRICS_PORT with a token: the metrics port asks for it, and the main port does not serve /metrics', async () => {
  expect(await status(`${metricsBase.ported}/metrics`)).toBe(401);
  expect(await status(`${metricsBase.ported}/metrics`, { headers: { authorization: 'Bearer wrong' } })).toBe(401);
  expect(await status(`${metricsBase.ported}/metrics?token=${METRICS_TOKEN}`)).toBe(401);
  expect(await status(`${metricsBase.ported}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).toBe(200);
  expect(await status(`${base.ported}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).toBe(404);
});

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
