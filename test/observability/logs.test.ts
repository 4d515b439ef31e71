import net from 'node:net';
import { freePort } from '../support/free-port';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { CarrelProcess, carrelEnv, createEmptyDatabase, MAIN_FROM_SOURCE, startCarrel } from '../support/carrel-process';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';

/**
 * Issue 15 item 1: Carrel's log as production writes it, read from a real process's stdout. The process runs at
 * CARREL_LOG_LEVEL=debug with CARREL_LOG_SQL=true, the most it ever writes, so that the scan for secrets covers the
 * worst case. It starts on an empty database, so its migration lines are in the output too.
 */
const SECRET = 'logs-test-token-secret-of-at-least-32-bytes';
const READY_TIMEOUT_MS = 90_000;
jest.setTimeout(180_000);

let database: Awaited<ReturnType<typeof createEmptyDatabase>>;
let dataSource: DataSource;
let carrel: CarrelProcess;
let url: string;
let stdout = '';
let inst: InstitutionFixture;
let adminToken: string;
let managerToken: string;

const productionEnv = (vars: Record<string, string>) => carrelEnv({
  NODE_ENV: 'production', DATABASE_URL: database.url, CARREL_TOKEN_SECRET: SECRET, CARREL_SEED_DEMO: 'false', ...vars,
});

beforeAll(async () => {
  database = await createEmptyDatabase('carrel_logs');
  carrel = startCarrel(MAIN_FROM_SOURCE, productionEnv({ PORT: '0', CARREL_LOG_LEVEL: 'debug', CARREL_LOG_SQL: 'true' }));
  carrel.child.stdout!.on('data', (chunk: string) => (stdout += chunk));
  url = `http://127.0.0.1:${await carrel.waitForEndpoint(READY_TIMEOUT_MS)}`;
  dataSource = createDataSource(database.url, { poolSize: 2 });
  await dataSource.initialize();
  inst = await createInstitution(dataSource, 'LOGS');
  await createPerson(dataSource, inst, { primaryIdentifier: 'log_admin', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  await createPerson(dataSource, inst, { primaryIdentifier: 'log_manager', roles: [['USER_MANAGER', 'INSTITUTION']] });
  adminToken = await login('log_admin', PASSWORD);
  managerToken = await login('log_manager', PASSWORD);
});
afterAll(async () => {
  await carrel?.kill();
  if (dataSource?.isInitialized) await dataSource.destroy();
  await database?.drop();
});

type LogLine = Record<string, any>;

/** Every stdout line parsed (a line that is not JSON fails the test that reads it). */
const lines = (text = stdout): LogLine[] => text.split('\n').filter(Boolean).map((line) => JSON.parse(line));

/** The request's line, once written: it is written when the response ends, which may be just after the client read it. */
async function requestLine(reqId: string, text: () => string = () => stdout): Promise<LogLine> {
  for (let waited = 0; waited < 5000; waited += 20) {
    const found = lines(text()).find((l) => l.reqId === reqId && l.route !== undefined);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no request line with reqId ${reqId}`);
}

let serial = 0;
const freshId = () => `logs-test-${++serial}-${Date.now()}`;

/** POSTs a GraphQL request with a request id of its own; returns the body, the id and the response's x-request-id. */
async function send(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}, base = url) {
  const reqId = freshId();
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': reqId, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { reqId, header: res.headers.get('x-request-id'), body: (await res.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] } };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function login(identifier: string, password: string): Promise<string> {
  const { body } = await send(`mutation Login($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }`, { i: identifier, p: password });
  if (!body.data?.login?.token) throw new Error(`login of ${identifier} failed: ${JSON.stringify(body.errors)}`);
  return body.data.login.token;
}

/** Sends a request line by line over TCP with `xRequestId` as its header's raw value: fetch refuses the odd ones. */
function rawRequest(xRequestId: string): Promise<{ status: number; header: string | undefined }> {
  const port = Number(new URL(url).port);
  const body = JSON.stringify({ query: 'query Raw { __typename }' });
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`
        + `X-Request-Id: ${xRequestId}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]), header: /\r\nx-request-id: ([^\r\n]*)\r\n/i.exec(answer)?.[1] });
    });
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('15.1 start-up and migration lines: the start, each migration applied, the database and the endpoint', () => {
  const messages = lines().map((l) => l.msg);
  expect(messages[0]).toMatch(/^starting Carrel .* production\)$/);
  expect(messages.filter((m) => /^applied migration \w+$/.test(m)).length).toBeGreaterThan(10);
  expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/^database: postgres:\/\//), expect.stringMatching(/^ready in \d+ ms$/)]));
  expect(lines().find((l) => /^applied migration/.test(l.msg))).toMatchObject({ level: 'info', component: 'database' });
});

test('15.1 one line per request: its id, method, route, status, operation name and type, duration, SQL count and result', async () => {
  const { reqId, header, body } = await send('query Myself { me { primaryIdentifier } }', {}, bearer(managerToken));
  expect(body.data.me.primaryIdentifier).toBe('log_manager');
  expect(header).toBe(reqId);
  const line = await requestLine(reqId);
  expect(line).toMatchObject({
    level: 'info', reqId, method: 'POST', route: '/graphql', status: 200, operation: 'Myself', operationType: 'query', result: 'ok',
    msg: expect.stringMatching(/^POST \/graphql Myself 200 ok [\d.]+ ms$/),
  });
  expect(line.durationMs).toEqual(expect.any(Number));
  expect(line.durationMs).toBeGreaterThan(0);
  expect(line.sql).toBeGreaterThan(0);
  expect(line.errorCodes).toBeUndefined();
  expect(lines().filter((l) => l.reqId === reqId && l.route !== undefined)).toHaveLength(1);
});

test('15.1 a staff request names its operator (operatorId), an API key request its key (apiKeyId), never both', async () => {
  const managerId = (await dataSource.query(`SELECT id FROM app_user WHERE primary_identifier = 'log_manager'`))[0].id;
  const staff = await send('query Staff { me { id } }', {}, bearer(managerToken));
  expect(await requestLine(staff.reqId)).toMatchObject({ operatorId: managerId });
  expect((await requestLine(staff.reqId)).apiKeyId).toBeUndefined();

  const key = await createApiKey('log lines key');
  const partner = await send('query Partner { users(first: 1) { totalCount } }', {}, { 'x-api-key': key.secret });
  expect(partner.body.errors).toBeUndefined();
  const line = await requestLine(partner.reqId);
  expect(line).toMatchObject({ apiKeyId: key.id, operation: 'Partner', result: 'ok' });
  expect(line.operatorId).toBeUndefined();
});

test('15.1 a refused operation is result "error" with its error codes, and no operator', async () => {
  const { reqId, body } = await send('query Anonymous { me { id } }');
  expect(body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  const line = await requestLine(reqId);
  expect(line).toMatchObject({ result: 'error', errorCodes: ['UNAUTHENTICATED'], operation: 'Anonymous', operationType: 'query' });
  expect(line.operatorId).toBeUndefined();

  const forbidden = await send('query Keys { apiKeys { id } }', {}, bearer(managerToken));
  expect(await requestLine(forbidden.reqId)).toMatchObject({ result: 'error', errorCodes: ['FORBIDDEN'], operation: 'Keys' });
});

test('15.1 health checks are logged at debug (a load balancer sends one every few seconds), GraphQL requests at info', async () => {
  const reqId = freshId();
  const res = await fetch(`${url}/health/ready`, { headers: { 'x-request-id': reqId } });
  expect(res.status).toBe(200);
  expect(await requestLine(reqId)).toMatchObject({ level: 'debug', route: '/health/ready', status: 200, result: 'ok' });
});

test('15.1 a valid x-request-id is kept; without one a UUID is generated and returned', async () => {
  const kept = 'f0e1d2c3-trace:span_01.A';
  expect((await rawRequest(kept)).header).toBe(kept);
  expect(await requestLine(kept)).toMatchObject({ reqId: kept, operation: 'Raw' });

  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'query NoId { __typename }' }) });
  const generated = res.headers.get('x-request-id')!;
  expect(generated).toMatch(UUID);
  expect(await requestLine(generated)).toMatchObject({ operation: 'NoId' });
});

test.each([
  ['overlong (129 characters)', 'a'.repeat(129)],
  ['a quote and JSON', 'x","level":"fatal","msg":"forged'],
  ['a backslash', 'abc\\u000a'],
  ['a space', 'two words'],
  ['a tab', 'tab\there'],
  ['bytes outside ASCII', 'caf\u00e9'],
])('15.1 an x-request-id with %s is replaced by a generated UUID, in the header and the line alike', async (_what, value) => {
  const { status, header } = await rawRequest(value);
  expect(status).toBe(200);
  expect(header).toMatch(UUID);
  expect(await requestLine(header!)).toMatchObject({ reqId: header, operation: 'Raw' });
  expect(stdout).not.toContain('forged');
});

test.each([
  ['a bare carriage return', 'cr\rforged-line'],
  ['a bare line feed', 'lf\nX-Forged: 1'],
  ['a NUL byte', 'nul\u0000forged'],
])('15.1 an x-request-id with %s is refused by the HTTP parser (400) before Carrel reads it', async (_what, value) => {
  const before = stdout.length;
  expect(await rawRequest(value)).toEqual({ status: 400, header: undefined });
  await new Promise((r) => setTimeout(r, 100));
  expect(stdout.slice(before)).not.toMatch(/forged/i);
});

test('15.1 two x-request-id headers are one invalid value: a UUID is generated', async () => {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: [['content-type', 'application/json'], ['x-request-id', 'first'], ['x-request-id', 'second']],
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  expect(res.headers.get('x-request-id')).toMatch(UUID);
});

const CREATE_KEY = `mutation CreateKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }`;

async function createApiKey(name: string): Promise<{ id: string; secret: string }> {
  const { body } = await send(CREATE_KEY, { input: { name, roles: [{ roleType: 'USER_MANAGER', scope: { type: 'INSTITUTION' } }] } }, bearer(adminToken));
  if (!body.data?.createApiKey) throw new Error(`createApiKey failed: ${JSON.stringify(body.errors)}`);
  return { id: body.data.createApiKey.apiKey.id, secret: body.data.createApiKey.secret };
}

test('15.1 no password, PIN, token, API key secret or hash appears anywhere in the output, even at debug with SQL text', async () => {
  const WRONG_PASSWORD = 'wrong-password-Qz81vX';
  const NEW_PASSWORD = 'renewed-password-Kx27wB';
  const PIN = '7391';
  const FORGED_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmb3JnZWQifQ.forged-signature-Wq3r';
  await createPerson(dataSource, inst, { primaryIdentifier: 'log_changer', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const patronId = await createPerson(dataSource, inst, { primaryIdentifier: 'log_patron', recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']] });

  const secrets: string[] = [SECRET, PASSWORD, WRONG_PASSWORD, NEW_PASSWORD, FORGED_TOKEN, adminToken, managerToken];
  // Sign-ins, right and wrong (a wrong password, an unknown identifier).
  expect((await send(`mutation WrongLogin { login(identifier: "log_admin", password: "${WRONG_PASSWORD}") { token } }`)).body.errors).toBeDefined();
  expect((await send(`mutation($p: String!) { login(identifier: "nobody", password: $p) { token } }`, { p: WRONG_PASSWORD })).body.errors).toBeDefined();
  const changerToken = await login('log_changer', PASSWORD);
  // A password change, with the wrong current password first.
  const CHANGE = `mutation Change($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token } }`;
  expect((await send(CHANGE, { c: WRONG_PASSWORD, n: NEW_PASSWORD }, bearer(changerToken))).body.errors).toBeDefined();
  const changed = await send(CHANGE, { c: PASSWORD, n: NEW_PASSWORD }, bearer(changerToken));
  expect(changed.body.errors).toBeUndefined();
  secrets.push(changerToken, changed.body.data.changePassword.token, await login('log_changer', NEW_PASSWORD));
  // Another user's password and PIN set by an administrator.
  const SET_PASSWORD = `mutation SetPassword($u: ID!, $p: String) { setUserPassword(userId: $u, password: $p) { id } }`;
  expect((await send(SET_PASSWORD, { u: patronId, p: NEW_PASSWORD }, bearer(adminToken))).body.errors).toBeUndefined();
  expect((await send(`mutation SetPin($u: ID!, $p: String) { setUserPin(userId: $u, pin: $p) { id } }`, { u: patronId, p: PIN }, bearer(adminToken))).body.errors)
    .toBeUndefined();
  // An API key, used to check a patron's password (right and wrong), and a wrong bearer token.
  const key = await createApiKey('secret scan key');
  secrets.push(key.secret, key.secret.slice(key.secret.lastIndexOf('_') + 1));
  const AUTHENTICATE = `mutation Check($i: String!, $p: String!) { authenticateUser(identifier: $i, password: $p) }`;
  expect((await send(AUTHENTICATE, { i: 'log_patron', p: NEW_PASSWORD }, { 'x-api-key': key.secret })).body.data?.authenticateUser).toBe(true);
  expect((await send(AUTHENTICATE, { i: 'log_patron', p: WRONG_PASSWORD }, { 'x-api-key': key.secret })).body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  expect((await send('query Forged { me { id } }', {}, bearer(FORGED_TOKEN))).body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  const last = await send('query Last { __typename }');
  await requestLine(last.reqId);

  // What the database keeps of them: the hashes, whole and their digest alone.
  const stored: { hash: string }[] = await dataSource.query(
    `SELECT password_hash AS hash FROM app_user WHERE password_hash IS NOT NULL UNION ALL SELECT secret_hash FROM api_key`,
  );
  expect(stored.length).toBeGreaterThanOrEqual(6);
  for (const { hash } of stored) secrets.push(hash, hash.slice(hash.lastIndexOf('$') + 1));
  const [{ pin }] = await dataSource.query(`SELECT pin_number AS pin FROM app_user WHERE id = $1`, [patronId]);
  expect(pin).toBe(PIN);

  const output = carrel.output();
  // The SQL text was logged (the worst case really ran), with placeholders for the values.
  expect(lines().some((l) => l.msg === 'sql' && /password_hash/.test(l.sql))).toBe(true);
  for (const secret of secrets) expect({ secret, found: output.includes(secret) }).toEqual({ secret, found: false });
  // Four digits also occur in times and durations: the PIN is looked for as a value of its own.
  expect(output).not.toMatch(new RegExp(`(?<![\\d.:-])${PIN}(?![\\d.:])`));
});

test('15.1 SIGTERM: a draining line, a stopped line, exit code 0; every stdout line was JSON with level, time and msg', async () => {
  carrel.child.kill('SIGTERM');
  expect(await carrel.exited).toEqual({ code: 0, signal: null });
  const all = lines();
  const messages = all.map((l) => l.msg);
  expect(messages.slice(-2)).toEqual([expect.stringMatching(/^SIGTERM: draining/), 'stopped after SIGTERM']);
  expect(all.length).toBeGreaterThan(50);
  for (const line of all) {
    expect(line).toEqual(expect.objectContaining({ level: expect.any(String), time: expect.any(String), msg: expect.any(String) }));
    expect(Number.isNaN(Date.parse(line.time))).toBe(false);
  }
  for (const line of all) expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(line.level);
});

test('15.1 at CARREL_LOG_LEVEL=warn no request line is written', async () => {
  const port = await freePort();
  const quiet = startCarrel(MAIN_FROM_SOURCE, productionEnv({ PORT: String(port), CARREL_LOG_LEVEL: 'warn' }));
  try {
    const base = `http://127.0.0.1:${port}`;
    await untilLive(base, quiet);
    const ok = await send('query Quiet { __typename }', {}, {}, base);
    const refused = await send('query QuietRefused { me { id } }', {}, {}, base);
    expect(ok.header).toBe(ok.reqId);
    expect(refused.body.errors).toBeDefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(quiet.output()).not.toContain(ok.reqId);
    expect(quiet.output()).not.toContain(refused.reqId);
    expect(quiet.output()).not.toMatch(/applied migration|ready in|\/graphql/);
  } finally {
    await quiet.kill();
  }
});


/** At warn the start writes nothing to wait for: the process is ready once /health/live answers. */
async function untilLive(base: string, process: CarrelProcess): Promise<void> {
  for (let waited = 0; waited < READY_TIMEOUT_MS; waited += 100) {
    if (!process.running()) throw new Error(`Carrel exited; output:\n${process.output()}`);
    if (await fetch(`${base}/health/live`).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('Carrel did not answer /health/live');
}
