import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { createTokenIssuer } from '../../src/auth/tokens';
import { tracingSettings } from '../../src/observability/tracing';
import { CarrelProcess, carrelEnv, ROOT, startCarrel } from '../support/carrel-process';
import { createInstitution, createPerson } from '../support/fixtures';
import { CollectedSpan, OtlpCollector, startOtlpCollector } from '../support/otlp-collector';
import { createTestDatabase, TestDatabase } from '../support/test-db';

/**
 * Issue 15 item 3: with OTEL_EXPORTER_OTLP_ENDPOINT set, Carrel started behind tracing-preload.ts sends each request's
 * trace (http, express, the GraphQL operation, its SQL) to an OTLP/HTTP collector, here one in this process; unset,
 * nothing of OpenTelemetry is loaded.
 */
const SECRET = 'tracing-test-secret-of-at-least-32-bytes!!';
const PRELOAD = './src/observability/tracing-preload.ts';
/** MAIN_FROM_SOURCE with the preload in front of src/main.ts, as `npm start` runs the built files. */
const TRACED_MAIN = [process.execPath, '-r', './bench/swc-register.js', '-r', PRELOAD, 'src/main.ts'];
/** Looked up by the traced query: it must appear in no span. */
const IDENTIFIER = 'traced-identifier-7f3a';
const LOOKUP = 'query TracedLookup($value: String!) { userByIdentifier(value: $value) { id firstName } }';
jest.setTimeout(120_000);

let database: TestDatabase;
let collector: OtlpCollector;
let carrel: CarrelProcess;
let url: string;
let token: string;

beforeAll(async () => {
  database = await createTestDatabase();
  collector = await startOtlpCollector();
  const inst = await createInstitution(database.dataSource);
  const managerId = await createPerson(database.dataSource, inst, { primaryIdentifier: IDENTIFIER, roles: [['USER_MANAGER', 'INSTITUTION']] });
  token = createTokenIssuer(SECRET, 3600).sign({ sub: managerId, sva: 0 }).token;
  carrel = startCarrel(TRACED_MAIN, tracedEnv(200));
  url = `http://127.0.0.1:${await carrel.waitForEndpoint(60_000)}`;
});

/** `batchDelayMs`: how long spans wait in the batch before they are sent (OTEL_BSP_SCHEDULE_DELAY). */
function tracedEnv(batchDelayMs: number): NodeJS.ProcessEnv {
  return carrelEnv({
    DATABASE_URL: database.url, PORT: '0', CARREL_TOKEN_SECRET: SECRET, CARREL_SEED_DEMO: 'false',
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_SERVICE_NAME: 'carrel-traced', OTEL_BSP_SCHEDULE_DELAY: String(batchDelayMs),
  });
}

afterAll(async () => {
  await carrel?.kill();
  await collector?.close();
  await database?.drop();
});

/**
 * Sends one GraphQL request to `base` as the first hop of a new trace (a W3C traceparent header, which Carrel
 * continues). GET puts the query and variables in the query string, as Apollo accepts them with a preflight header.
 */
async function sendInNewTrace(base: string, query: string, variables: Record<string, unknown>, method: 'GET' | 'POST' = 'POST') {
  const traceId = crypto.randomBytes(16).toString('hex');
  const headers = { authorization: `Bearer ${token}`, traceparent: `00-${traceId}-${crypto.randomBytes(8).toString('hex')}-01` };
  const res = method === 'POST'
    ? await fetch(`${base}/graphql`, { method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) })
    : await fetch(`${base}/graphql?${new URLSearchParams({ query, variables: JSON.stringify(variables) })}`, { headers: { ...headers, 'apollo-require-preflight': 'true' } });
  return { traceId, ...((await res.json()) as { data: any; errors?: unknown }) };
}

/** sendInNewTrace to the traced Carrel, with the trace's spans once the request's server span has been exported. */
async function tracedRequest(query: string, variables: Record<string, unknown>, method: 'GET' | 'POST' = 'POST') {
  const { traceId, ...body } = await sendInNewTrace(url, query, variables, method);
  await collector.waitForSpan((s) => s.traceId === traceId && isServerSpan(s), 10_000);
  return { ...body, trace: collector.spans.filter((s) => s.traceId === traceId) };
}

const isServerSpan = (s: CollectedSpan) => s.attributes['http.request.method'] !== undefined;
const operationOf = (trace: CollectedSpan[]) => trace.find((s) => s.attributes['graphql.operation.name'] === 'TracedLookup');

function descendsFrom(span: CollectedSpan, ancestor: CollectedSpan, trace: CollectedSpan[]): boolean {
  for (let parent = span.parentSpanId; parent; parent = trace.find((s) => s.spanId === parent)?.parentSpanId) {
    if (parent === ancestor.spanId) return true;
  }
  return false;
}

test('15.3 one GraphQL request makes one trace: the http server span, the operation span with its name and type, and its SQL under it', async () => {
  const { data, errors, trace } = await tracedRequest(LOOKUP, { value: IDENTIFIER });
  expect(errors).toBeUndefined();
  expect(data.userByIdentifier.firstName).toBe('Test');

  const server = trace.find(isServerSpan)!;
  expect(server).toMatchObject({ service: 'carrel-traced', attributes: { 'url.path': '/graphql', 'http.response.status_code': 200 } });
  expect(trace.some((s) => s.name.startsWith('request handler') && descendsFrom(s, server, trace))).toBe(true);
  const operation = operationOf(trace)!;
  expect(operation).toMatchObject({ name: 'query TracedLookup', attributes: { 'graphql.operation.type': 'query' } });
  expect(descendsFrom(operation, server, trace)).toBe(true);

  // The lookup's statement is prepared (src/db/prepared.ts: a { name, text, values } config): its span has the text
  // with its placeholders and the statement's name, and sits under the operation.
  const lookupSql = trace.filter((s) => String(s.attributes['db.query.text']).includes('FROM app_user u') && descendsFrom(s, operation, trace));
  expect(lookupSql).toHaveLength(1);
  expect(lookupSql[0].attributes['db.postgresql.plan']).toMatch(/^carrel_/);
  expect(lookupSql[0].attributes['db.query.text']).toContain('$2');
});

test('15.3 no span records the token, a variable value (in a body or a query string), a header or the client address', async () => {
  const { trace: posted } = await tracedRequest(LOOKUP, { value: IDENTIFIER });
  const { errors, trace: got } = await tracedRequest(LOOKUP, { value: IDENTIFIER }, 'GET');
  expect(errors).toBeUndefined();
  expect(got.find(isServerSpan)?.attributes).toMatchObject({ 'http.request.method': 'GET', 'url.path': '/graphql' });
  const trace = [...posted, ...got];
  expect(trace.length).toBeGreaterThan(6);
  const recorded = JSON.stringify(collector.spans);
  expect(recorded).not.toContain(token);
  expect(recorded).not.toContain(IDENTIFIER);
  expect(recorded).not.toContain(SECRET);
  const keys = trace.flatMap((s) => Object.keys(s.attributes));
  expect(keys.filter((k) => /header|graphql\.variables|db\.query\.parameter|db\.postgresql\.values|client\.address|peer\.address/.test(k))).toEqual([]);
});

test('15.3 a query run compiled (from its second execution, graphql-jit) has the same operation span', async () => {
  for (let i = 0; i < 3; i++) {
    const { errors, trace } = await tracedRequest(LOOKUP, { value: IDENTIFIER });
    expect(errors).toBeUndefined();
    const operation = operationOf(trace);
    expect(operation).toMatchObject({ name: 'query TracedLookup', attributes: { 'graphql.operation.type': 'query' } });
    expect(trace.some((s) => s.attributes['db.query.text'] !== undefined && descendsFrom(s, operation!, trace))).toBe(true);
  }
});

test('15.3 health checks and metric scrapes make no trace', async () => {
  for (const path of ['/health', '/health/ready', '/metrics']) await fetch(`${url}${path}`);
  // Spans are exported in the order they end: a span of those requests would have come before this one's.
  await tracedRequest('{ __typename }', {});
  expect(collector.spans.filter((s) => /^\/(health|metrics)/.test(String(s.attributes['url.path'])))).toEqual([]);
});

test('15.3 spans still waiting in the batch are sent when Carrel stops on SIGTERM', async () => {
  const stopping = startCarrel(TRACED_MAIN, tracedEnv(600_000));
  try {
    const { traceId, errors } = await sendInNewTrace(`http://127.0.0.1:${await stopping.waitForEndpoint(60_000)}`, LOOKUP, { value: IDENTIFIER });
    expect(errors).toBeUndefined();
    stopping.child.kill('SIGTERM');
    expect(await stopping.exited).toEqual({ code: 0, signal: null });
    expect(collector.spans.filter((s) => s.traceId === traceId).map((s) => s.name)).toEqual(expect.arrayContaining(['POST /graphql', 'query TracedLookup']));
  } finally {
    await stopping.kill();
  }
});

/** Runs `-e script` behind the preload, with `env` for OpenTelemetry and nothing else of the machine's. */
function behindPreload(script: string, env: Record<string, string>) {
  return spawnSync(process.execPath, ['-r', './bench/swc-register.js', '-r', PRELOAD, '-e', script], { cwd: ROOT, env: carrelEnv(env), encoding: 'utf8' });
}

test('15.3 with OTEL_EXPORTER_OTLP_ENDPOINT unset the preload loads no OpenTelemetry module', () => {
  const run = behindPreload(`console.log(Object.keys(require.cache).filter((k) => k.includes('@opentelemetry')).length)`, { OTEL_SERVICE_NAME: 'x' });
  expect(run.stderr).toBe('');
  expect(run.stdout.trim()).toBe('0');
});

test('15.3 a malformed endpoint stops the start with one line saying what to set, without repeating the value', () => {
  const run = behindPreload(`console.log('started')`, { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318?key=hidden' });
  expect(run.status).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/failed to start: OTEL_EXPORTER_OTLP_ENDPOINT is not an http:\/\/ or https:\/\/ URL/)]);
  expect(run.stderr).not.toContain('hidden');
});

test('15.3 tracingSettings: off when the endpoint is unset or blank, the service name defaults to carrel', () => {
  expect(tracingSettings({})).toBeNull();
  expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ', OTEL_SERVICE_NAME: 'x' })).toBeNull();
  expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example:4318' })).toEqual({ endpoint: 'https://otel.example:4318', serviceName: 'carrel' });
  expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/', OTEL_SERVICE_NAME: 'carrel-a' }))
    .toEqual({ endpoint: 'http://127.0.0.1:4318/', serviceName: 'carrel-a' });
  expect(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://otel.example' })).toThrow(/not an http/);
});
