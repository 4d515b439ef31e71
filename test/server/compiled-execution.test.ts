import { createInstitution, createPatron, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 12: queries run compiled by graphql-jit (src/server/compiled-execution.ts). A compiled query must behave as
 * graphql-js did: the same coercion of variables, the same errors with their codes and paths, the same policy and
 * limits. The server here compiles every query on first sight and keeps two at most; each query is asked twice or more,
 * so that compiled queries are run again. (read-ahead-equivalence.test.ts compares whole answers with graphql-js's.)
 */
let compiled: TestApp;
let tokens: Record<string, string>;

beforeAll(async () => {
  compiled = await startTestApp({ compile: { compileAfter: 1, maxCompiled: 2 } });
  const inst = await createInstitution(compiled.db.dataSource);
  tokens = await loginOperators(compiled, inst, { cx_manager: ['USER_MANAGER', 'INSTITUTION'], cx_circ: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'] });
  for (const [id, expiry] of [['cx_b', '2030-01-01'], ['cx_a', '2029-01-01'], ['cx_c', null]] as const) {
    await createPatron(compiled.db.dataSource, inst, { primaryIdentifier: id, expiryDate: expiry });
  }
});
afterAll(() => compiled?.close());

const SORTED = `query($sort: UserSort) { users(first: 10, filter: { recordType: PUBLIC }, sort: $sort) { edges { node { primaryIdentifier } } } }`;

test('Issue 12: a compiled query applies the defaults of input object fields (a sort without direction is ascending)', async () => {
  for (let i = 0; i < 2; i++) {
    const res = await compiled.gql(SORTED, { sort: { field: 'EXPIRY_DATE' } }, tokens.cx_manager);
    expect(res.errors).toBeUndefined();
    expect(res.data.users.edges.map((e: any) => e.node.primaryIdentifier)).toEqual(['cx_a', 'cx_b', 'cx_c']);
  }
});

test('Issue 12: a compiled query refuses a variable of the wrong type as BAD_USER_INPUT, with graphql-js\'s message', async () => {
  const res = await compiled.gql(SORTED, { sort: { field: 'NOPE' } }, tokens.cx_manager);
  expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  expect(res.errors?.[0].message).toMatch(/^Variable "\$sort" got invalid value "NOPE" at "sort.field"; Value "NOPE" does not exist in "UserSortField" enum/);
});

test('Issue 12: a resolver\'s refusal in a compiled query keeps its code, its field and its path', async () => {
  const query = `query($first: Int) { users(first: $first) { edges { node { id } } } }`;
  for (let i = 0; i < 2; i++) {
    const res = await compiled.gql(query, { first: 1000 }, tokens.cx_manager);
    expect(res.data?.users ?? null).toBeNull();
    expect(res.errors?.[0]).toMatchObject({ path: ['users'], extensions: { code: 'BAD_USER_INPUT', field: 'first' } });
  }
});

test('Issue 12: the field guard still refuses in a compiled query: a desk operator asks for what only user managers read', async () => {
  const query = `{ users(first: 5, filter: { recordType: PUBLIC }) { edges { node { id } } } staffLoginReport(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z") { successfulCount } }`;
  for (let i = 0; i < 2; i++) {
    const res = await compiled.gql(query, {}, tokens.cx_circ);
    expect(res.errors?.map((e: any) => [e.path, e.extensions?.code])).toContainEqual([['staffLoginReport'], 'FORBIDDEN']);
  }
});

test('Issue 12: the cost limit refuses a compiled query too, before it runs', async () => {
  const heavy = `{ users(first: 100) { edges { node { identifiers { value } emails { address } addresses { city } phones { number } roles { roleType } blocks { type } proxyFor { proxy { identifiers { value } roles { roleType } } } } } } }`;
  for (let i = 0; i < 2; i++) {
    const res = await compiled.gql(heavy, {}, tokens.cx_manager);
    expect(res.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
  }
});

test('Issue 12: more distinct queries than compiled queries kept: each still answers right', async () => {
  const queries = [0, 1, 2, 3].map((n) => `{ users(first: ${n + 1}, filter: { recordType: PUBLIC }, sort: { field: PRIMARY_IDENTIFIER }) { edges { node { primaryIdentifier } } } }`);
  for (let round = 0; round < 2; round++) {
    for (const [n, query] of queries.entries()) {
      const res = await compiled.gql(query, {}, tokens.cx_manager);
      expect(res.data.users.edges.map((e: any) => e.node.primaryIdentifier)).toEqual(['cx_a', 'cx_b', 'cx_c'].slice(0, n + 1));
    }
  }
});

test('Issue 12: a first of the wrong type, sent again and again to a compiled query, is BAD_USER_INPUT each time, never an internal error', async () => {
  const query = `query($first: Int) { users(first: $first) { edges { node { id } } } }`;
  expect((await compiled.gql(query, { first: 2 }, tokens.cx_manager)).errors).toBeUndefined();
  for (const first of ['x', 'x', 1e12, -1, null]) {
    const res = await compiled.gql(query, { first }, tokens.cx_manager);
    if (first === null) expect(res.errors).toBeUndefined();
    else expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  }
});
