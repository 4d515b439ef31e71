import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
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

beforeAll(async () => {
  [prod, dev] = await Promise.all([startTestApp({ production: true }), startTestApp()]);
  prodInst = await createInstitution(prod.db.dataSource);
  devInst = await createInstitution(dev.db.dataSource);
  await createPerson(prod.db.dataSource, prodInst, { primaryIdentifier: 'prodmgr', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await createPerson(dev.db.dataSource, devInst, { primaryIdentifier: 'devmgr', roles: [['USER_MANAGER', 'INSTITUTION']] });
  prodToken = await prod.login('prodmgr', PASSWORD);
});
afterAll(async () => {
  await Promise.all([prod?.close(), dev?.close()]);
});

const USER_EMAILS = `query($id: ID!) { user(id: $id) { primaryIdentifier emails { address } } }`;

test('production: an internal failure reaches the client as "Internal server error" with no stack, SQL or table name', async () => {
  // Its own app and database: the table this test drops would break the other tests.
  const broken = await startTestApp({ production: true });
  const consoleError = jest.spyOn(console, 'error').mockImplementation(() => {});
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
    expect(consoleError).toHaveBeenCalledWith('internal error:', expect.objectContaining({ message: expect.stringMatching(/user_email/) }));
  } finally {
    consoleError.mockRestore();
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
  expect(res.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
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
  expect(await res.json()).toEqual({ status: 'ok', database: 'ok' });
});

/** Runs `work` with console.error silenced: express logs the errors it turns into 4xx pages. */
async function quietly<T>(work: () => Promise<T>): Promise<T> {
  const spy = jest.spyOn(console, 'error').mockImplementation(() => {});
  try {
    return await work();
  } finally {
    spy.mockRestore();
  }
}

const oversized = () => JSON.stringify({ query: `{ __typename }`, variables: { padding: 'x'.repeat(1024 * 1024 + 1) } });

test('a request body over the 1 MB limit is refused with HTTP 413', async () => {
  const res = await quietly(() => fetch(prod.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: oversized() }));
  expect(res.status).toBe(413);
});

test('production: the 413 refusal shows no stack trace', async () => {
  const res = await quietly(() => fetch(prod.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: oversized() }));
  const text = await res.text();
  expect(text).toMatch(/Payload Too Large/);
  expect(text).not.toMatch(/\bat \S+ \(|node_modules|PayloadTooLargeError/);
});

test('production: a malformed JSON body is refused with 400 and no stack trace', async () => {
  const res = await quietly(() => fetch(prod.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": "{ __typename }"' }));
  expect(res.status).toBe(400);
  expect(await res.text()).not.toMatch(/\bat \S+ \(|node_modules|SyntaxError/);
});

test('a request body just under the limit is accepted', async () => {
  const body = JSON.stringify({ query: `{ __typename }`, variables: { padding: 'x'.repeat(1000 * 1000) } });
  expect(Buffer.byteLength(body)).toBeLessThan(1024 * 1024);
  const res = await fetch(prod.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
});
