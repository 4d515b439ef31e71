import net from 'node:net';
import { captureLog } from '../support/log-capture';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD, userTableCounts } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * What clients see when something goes wrong, in production and in
 * development: the server's own faults are masked in production, the
 * client's mistakes pass through, and nothing reveals the code or the SQL.
 */
let prod: TestApp;
let dev: TestApp;
let prodInst: InstitutionFixture;
let devInst: InstitutionFixture;
let prodToken: string;
let devToken: string;

beforeAll(async () => {
  [prod, dev] = await Promise.all([startTestApp({ production: true }), startTestApp()]);
  prodInst = await createInstitution(prod.db.dataSource);
  devInst = await createInstitution(dev.db.dataSource);
  await createPerson(prod.db.dataSource, prodInst, { primaryIdentifier: 'prodmgr', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await createPerson(dev.db.dataSource, devInst, { primaryIdentifier: 'devmgr', roles: [['USER_MANAGER', 'INSTITUTION']] });
  [prodToken, devToken] = await Promise.all([prod.login('prodmgr', PASSWORD), dev.login('devmgr', PASSWORD)]);
});
afterAll(async () => {
  await Promise.all([prod?.close(), dev?.close()]);
});

const USER_EMAILS = `query($id: ID!) { user(id: $id) { primaryIdentifier emails { address } } }`;

test('production: an internal failure reaches the client as "Internal server error" with no stack, SQL or table name', async () => {
  // Its own app and database: the table this test drops would break the other tests.
  const broken = await startTestApp({ production: true });
  const log = captureLog('error');
  try {
    const inst = await createInstitution(broken.db.dataSource);
    await createPerson(broken.db.dataSource, inst, { primaryIdentifier: 'opsmgr', roles: [['USER_MANAGER', 'INSTITUTION']] });
    const patron = await createPerson(broken.db.dataSource, inst, { primaryIdentifier: 'patron1', recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']] });
    const token = await broken.login('opsmgr', PASSWORD);
    await broken.db.dataSource.query(`DROP TABLE user_email CASCADE`);

    const res = await fetch(broken.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: USER_EMAILS, variables: { id: patron } }),
    });
    const text = await res.text();
    const body = JSON.parse(text);

    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]).toEqual({
      message: 'Internal server error',
      locations: expect.any(Array),
      path: ['user', 'emails'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(body.data).toEqual({ user: null });
    expect(text).not.toMatch(/stacktrace|\bat \S+ \(|node_modules|\.ts:\d+/);
    expect(text).not.toMatch(/SELECT|FROM|WHERE|relation|does not exist/i);
    expect(text).not.toMatch(/user_email|app_user/);
    // The operator's log keeps the real cause.
    expect(log.entries()).toContainEqual(expect.objectContaining({ msg: 'internal error', err: expect.objectContaining({ message: expect.stringMatching(/user_email/) }) }));
  } finally {
    log.restore();
    await broken.close();
  }
});

test('production: UNAUTHENTICATED passes through with its message and no stacktrace', async () => {
  const res = await prod.gql(`{ me { id } }`);
  expect(res.errors?.[0].message).toMatch(/Authentication required/);
  expect(res.errors?.[0].extensions).toEqual({ code: 'UNAUTHENTICATED' });
});

test('production: BAD_USER_INPUT passes through with its field and no stacktrace', async () => {
  const res = await prod.gql(`{ users(first: 0) { totalCount } }`, {}, prodToken);
  expect(res.errors?.[0].message).toMatch(/first must be between 1 and/);
  expect(res.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'first', limit: 100 });
});

test('production: a validation error passes through as GRAPHQL_VALIDATION_FAILED without stacktrace', async () => {
  const res = await prod.gql(`{ me { noSuchField } }`, {}, prodToken);
  expect(res.errors?.[0].message).toMatch(/noSuchField/);
  expect(res.errors?.[0].extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED' });
});

test('development: errors carry a stacktrace', async () => {
  const res = await dev.gql(`{ me { id } }`);
  expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  expect(res.errors?.[0].extensions?.stacktrace).toEqual(expect.arrayContaining([expect.stringMatching(/^\s+at /)]));
});

test('production: introspection is refused', async () => {
  const res = await prod.gql(`{ __schema { queryType { name } } }`, {}, prodToken);
  expect(res.data).toBeUndefined();
  expect(res.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  expect(res.errors?.[0].message).toMatch(/introspection/i);
});

test('development: introspection is allowed', async () => {
  const res = await dev.gql(`{ __schema { queryType { name } } }`);
  expect(res.errors).toBeUndefined();
  expect(res.data.__schema.queryType.name).toBe('Query');
});

test('GET /health answers status ok and database ok', async () => {
  const res = await fetch(new URL('/health', prod.url));
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: 'ok', database: 'ok', migrations: 'current' });
});

// ---------------------------------------------------------------- failures outside GraphQL (issue 9 finding 8)

const MODES = ['development', 'production'] as const;
const appIn = (mode: (typeof MODES)[number]) => (mode === 'production' ? prod : dev);

/** Nothing a client should see: an HTML page, a stack frame, the server's paths or an error class name. */
const LEAKS = /<html|<!DOCTYPE|<pre>|\bat \S+ \(|node_modules|\/work\/|\.[jt]s:\d+|stacktrace|[A-Za-z]+Error\b/;

/** The answer is `{"errors":[{"message", "extensions":{"code"}}]}` as JSON, with this status and code, and leaks nothing. */
async function expectJsonRefusal(res: Response, status: number, code: string): Promise<{ message: string }> {
  const text = await res.text();
  expect({ status: res.status, text }).toEqual({ status, text: expect.any(String) });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(text).not.toMatch(LEAKS);
  const body = JSON.parse(text);
  expect(body).toEqual({ errors: [{ message: expect.any(String), extensions: { code } }] });
  return body.errors[0];
}

const post = (url: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }, method = 'POST') =>
  fetch(url, { method, headers, body });

const oversized = () => JSON.stringify({ query: `{ __typename }`, variables: { padding: 'x'.repeat(1024 * 1024 + 1) } });

/** The same request over a raw socket, for what fetch will not send (oversized headers, bytes that are not HTTP). */
async function rawHttp(url: string, request: string): Promise<{ status: number; headers: string; body: string }> {
  const { hostname, port } = new URL(url);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(request));
    let out = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    socket.on('end', () => resolve(out)).on('error', reject);
  });
  const [head, body] = answer.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), headers: head, body };
}

describe.each(MODES)('%s', (mode) => {
  test('Issue 9 finding 8: a body over the 1 MB limit is answered 413 as JSON with code PAYLOAD_TOO_LARGE, no HTML, stack or path', async () => {
    const refusal = await expectJsonRefusal(await post(appIn(mode).url, oversized()), 413, 'PAYLOAD_TOO_LARGE');
    expect(refusal.message).toMatch(/larger than the limit of 1 MB/);
  });

  test('Issue 9 finding 8: a malformed JSON body is answered 400 as JSON with code BAD_REQUEST, no HTML, stack or path', async () => {
    const refusal = await expectJsonRefusal(await post(appIn(mode).url, '{"query": "{ __typename }"'), 400, 'BAD_REQUEST');
    expect(refusal.message).toMatch(/not valid JSON/);
  });

  test('Issue 9 finding 8: PUT, DELETE and PATCH on /graphql are answered 405 as JSON with code METHOD_NOT_ALLOWED and Allow: GET, POST', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const res = await post(appIn(mode).url, JSON.stringify({ query: '{ __typename }' }), { 'content-type': 'application/json' }, method);
      expect(res.headers.get('allow')).toBe('GET, POST');
      await expectJsonRefusal(res, 405, 'METHOD_NOT_ALLOWED');
    }
  });

  test('a JSON body that is a bare string or null is answered 400 as JSON', async () => {
    for (const body of ['"{ __typename }"', 'null']) await expectJsonRefusal(await post(appIn(mode).url, body), 400, 'BAD_REQUEST');
  });

  test('a POST whose body is not JSON (text/plain, a form, XML, no content type) is answered 415 as JSON', async () => {
    const query = JSON.stringify({ query: '{ __typename }' });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
      await expectJsonRefusal(await post(appIn(mode).url, query, { 'content-type': type }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
    await expectJsonRefusal(await fetch(appIn(mode).url, { method: 'POST', body: new Uint8Array(Buffer.from(query)) }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('a JSON body in a charset or content encoding the server does not read is answered 415 as JSON', async () => {
    const query = JSON.stringify({ query: '{ __typename }' });
    await expectJsonRefusal(await post(appIn(mode).url, query, { 'content-type': 'application/json; charset=koi8-r' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    // Not zstd: Node 22.15+ decodes it (a body that is not zstd is then 400); no Node decodes LZW's `compress`.
    await expectJsonRefusal(await post(appIn(mode).url, query, { 'content-type': 'application/json', 'content-encoding': 'compress' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('an unknown path, under /graphql or not, is answered 404 as JSON with code NOT_FOUND', async () => {
    for (const path of ['/', '/nope', '/graphql/extra', '/health/x', '/%E0%A4%A']) {
      await expectJsonRefusal(await fetch(new URL(path, appIn(mode).url)), 404, 'NOT_FOUND');
    }
    await expectJsonRefusal(await post(new URL('/graphql/extra', appIn(mode).url).toString(), JSON.stringify({ query: '{ __typename }' })), 404, 'NOT_FOUND');
  });

  test('HEAD on /graphql is answered 405 with Allow and no body; OPTIONS with 204 and Allow', async () => {
    const head = await fetch(appIn(mode).url, { method: 'HEAD' });
    expect([head.status, head.headers.get('allow'), await head.text()]).toEqual([405, 'GET, POST', '']);
    const options = await fetch(appIn(mode).url, { method: 'OPTIONS' });
    expect([options.status, options.headers.get('allow'), await options.text()]).toEqual([204, 'GET, POST', '']);
  });

  test('Apollo refusals (CSRF, a batch, malformed variables or no query in a GET) carry no stacktrace', async () => {
    const preflight = { 'apollo-require-preflight': 'true' };
    const answers = [
      await fetch(`${appIn(mode).url}?query=${encodeURIComponent('{ __typename }')}`),
      await post(appIn(mode).url, JSON.stringify([{ query: '{ __typename }' }])),
      await fetch(`${appIn(mode).url}?query=%7B__typename%7D&variables=%7B%E0%A4%A`, { headers: preflight }),
      await fetch(appIn(mode).url, { headers: preflight }),
    ];
    for (const res of answers) await expectJsonRefusal(res, 400, 'BAD_REQUEST');
  });

  test('a request header block over the limit is answered 431 as JSON; bytes that are not HTTP 400 as JSON', async () => {
    const big = await rawHttp(appIn(mode).url, `GET /graphql HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big.status).toBe(431);
    expect(big.headers).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(big.body)).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'REQUEST_HEADER_FIELDS_TOO_LARGE' } }] });
    const garbage = await rawHttp(appIn(mode).url, 'NOT HTTP AT ALL\r\n\r\n');
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.body)).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'BAD_REQUEST' } }] });
  });

  test('/health takes GET and HEAD; any other method is answered 405 as JSON', async () => {
    const url = new URL('/health', appIn(mode).url);
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
    const res = await fetch(url, { method: 'POST' });
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    await expectJsonRefusal(res, 405, 'METHOD_NOT_ALLOWED');
  });
});

test('a mutation refused at the HTTP level (over the limit, malformed, PUT, text/plain) changes nothing', async () => {
  const before = await userTableCounts(dev.db.dataSource);
  const mutation = (padding: string) => JSON.stringify({
    query: `mutation($in: CreateUserInput!) { createUser(input: $in) { user { id } } }`,
    variables: { in: { recordType: 'PUBLIC', primaryIdentifier: 'refused1', firstName: 'A', lastName: 'B', userGroup: 'UNDERGRAD', emails: [{ address: 'refused1@example.edu', type: 'PERSONAL' }] }, padding },
  });
  const auth = { authorization: `Bearer ${devToken}` };
  await post(dev.url, mutation('x'.repeat(1024 * 1024)), { 'content-type': 'application/json', ...auth });
  await post(dev.url, mutation('').slice(0, -1), { 'content-type': 'application/json', ...auth });
  await post(dev.url, mutation(''), { 'content-type': 'application/json', ...auth }, 'PUT');
  await post(dev.url, mutation(''), { 'content-type': 'text/plain', ...auth });
  expect(await userTableCounts(dev.db.dataSource)).toEqual(before);
  // The same request, sent properly, does create the user: the refusals above were not refusals of the input.
  const res = await post(dev.url, mutation(''), { 'content-type': 'application/json', ...auth });
  const body = (await res.json()) as any;
  expect(body.errors).toBeUndefined();
  expect(body.data.createUser.user.id).toBeDefined();
});

test('a request body just under the limit is accepted', async () => {
  const body = JSON.stringify({ query: `{ __typename }`, variables: { padding: 'x'.repeat(1000 * 1000) } });
  expect(Buffer.byteLength(body)).toBeLessThan(1024 * 1024);
  const res = await fetch(prod.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
});
