import { getIntrospectionQuery } from 'graphql';
import { sqlStatementCount } from '../../src/db/sql-logger';
import { QUERY_LIMITS } from '../../src/server/query-limits';
import { createInstitution, createPerson, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Abusive queries (too deep, too many aliases, directives or tokens, too many
 * nested list items) are refused before anything executes, with HTTP 400 and
 * a code a client can act on; ordinary list pages pass.
 */
let dev: TestApp;
let prod: TestApp;
let devToken: string;
let prodToken: string;

beforeAll(async () => {
  [dev, prod] = await Promise.all([startTestApp(), startTestApp({ production: true })]);
  for (const app of [dev, prod]) {
    const inst = await createInstitution(app.db.dataSource);
    await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'limitsmgr', roles: [['USER_MANAGER', 'INSTITUTION']] });
  }
  [devToken, prodToken] = await Promise.all([dev.login('limitsmgr', PASSWORD), prod.login('limitsmgr', PASSWORD)]);
});
afterAll(async () => {
  await Promise.all([dev?.close(), prod?.close()]);
});

interface Answer {
  status: number;
  body: any;
}

/**
 * POSTs a JSON body (a request, or anything else) and returns the HTTP status and the parsed answer. It accepts
 * application/graphql-response+json, the media type under which the GraphQL over HTTP spec has a refused request
 * answered with 400; under application/json (or no Accept header) the same refusal is a 200 (test/server/graphql-over-http-audit.test.ts).
 */
async function post(app: TestApp, body: unknown, token?: string): Promise<Answer> {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** The answer to `request`, and how many SQL statements the server sent beyond authenticating the token. */
async function statementsBeyondAuthentication(app: TestApp, request: unknown, token: string): Promise<{ answer: Answer; statements: number }> {
  let before = sqlStatementCount();
  await post(app, { query: '{ __typename }' }, token);
  const authentication = sqlStatementCount() - before;
  before = sqlStatementCount();
  const answer = await post(app, request, token);
  return { answer, statements: sqlStatementCount() - before - authentication };
}

/** The list page's fields: cost about 12,000 at first: 100. */
const LIST_PAGE = (first: number) => `{
  users(first: ${first}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id displayName
      identifiers { type value }
      roles { roleType scope { type library { code } } }
      blocks { type }
      fineSummary { activeBalance }
    } }
  }
}`;

/** Proxies of proxies: 3 nested lists under each user (cost 2,223 per user; depth 9). */
const NESTED_LISTS = `edges { node { proxyFor { sponsor { proxyFor { sponsor { roles { roleType } } } } } } }`;
const nestedLists = (first: number) => `{ users(first: ${first}) { ${NESTED_LISTS} } }`;

const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(' ')} }`;

// ---------------------------------------------------------------- depth

test('a query nested deeper than 10 levels is refused as GRAPHQL_VALIDATION_FAILED with HTTP 400, before authentication is even checked', async () => {
  const deep = `{ users { edges { node { proxyFor { sponsor { proxyFor { sponsor { proxyFor { sponsor { roles { roleType } } } } } } } } } } }`;
  const { status, body } = await post(dev, { query: deep });
  expect(status).toBe(400);
  expect(body.data).toBeUndefined();
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0].message).toMatch(/depth limit of 10 exceeded, found 11/);
  // Executing would have refused the missing token (UNAUTHENTICATED): nothing executed.
  expect(body.errors[0].extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', limit: QUERY_LIMITS.maxDepth });
});

test('a query exactly 10 levels deep passes the depth limit (without a token it reaches execution: UNAUTHENTICATED)', async () => {
  const ten = `{ me { roles { scope { desk { library { desks { library { desks { library { code } } } } } } } } } }`;
  const { body } = await post(dev, { query: ten });
  expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
});

test('a query refused for its depth sends no SQL beyond authenticating the operator', async () => {
  const deep = `{ users { edges { node { proxyFor { sponsor { proxyFor { sponsor { proxyFor { sponsor { roles { roleType } } } } } } } } } } }`;
  const { answer, statements } = await statementsBeyondAuthentication(dev, { query: deep }, devToken);
  expect(answer.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  expect(statements).toBe(0);
});

// ---------------------------------------------------------------- aliases, directives, tokens

test('more than 15 aliases are refused as GRAPHQL_VALIDATION_FAILED with HTTP 400', async () => {
  const { status, body } = await post(dev, { query: aliases(16) });
  expect(status).toBe(400);
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0].message).toMatch(/Aliases limit of 15 exceeded, found 16/);
  expect(body.errors[0].extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', limit: QUERY_LIMITS.maxAliases });
});

test('15 aliases pass the alias limit', async () => {
  const { body } = await post(dev, { query: aliases(15) }, devToken);
  expect(body.errors).toBeUndefined();
  expect(Object.keys(body.data)).toHaveLength(15);
});

test('more than 20 directives are refused as GRAPHQL_VALIDATION_FAILED with HTTP 400', async () => {
  const query = `{ ${Array.from({ length: 21 }, (_, i) => `t${i}: __typename @include(if: true)`).join(' ')} }`;
  const { status, body } = await post(dev, { query });
  expect(status).toBe(400);
  expect(body.errors[0].message).toMatch(/Directives limit of 20 exceeded, found 21/);
  expect(body.errors[0].extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', limit: QUERY_LIMITS.maxDirectives });
});

test('a query text of more than 2000 tokens is refused as GRAPHQL_PARSE_FAILED with HTTP 400', async () => {
  const query = `{ ${'__typename '.repeat(2001)}}`;
  const { status, body } = await post(dev, { query });
  expect(status).toBe(400);
  expect(body.errors[0].message).toMatch(/2000 tokens/);
  expect(body.errors[0].extensions).toMatchObject({ code: 'GRAPHQL_PARSE_FAILED', limit: QUERY_LIMITS.maxTokens });
});

test('Issue 9 finding 5: 1,500 copies of one field are refused naming the field-merge limit, not a bare "Validation aborted."', async () => {
  // 1,501 tokens, under the token limit; graphql's check that same-named fields merge compares them in pairs (1.1 million).
  const { status, body } = await post(dev, { query: `{ ${'__typename '.repeat(1500)}}` });
  expect(status).toBe(400);
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0].message).toMatch(/repeats fields too often.*stops after 500000 comparisons/);
  expect(body.errors[0].extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', limit: QUERY_LIMITS.fieldMergeComparisons });
});

test('more than 100 validation errors are refused naming graphql\'s error limit', async () => {
  const { body } = await post(dev, { query: `{ ${Array.from({ length: 101 }, (_, i) => `nope${i}`).join(' ')} }` });
  expect(body.errors.at(-1).message).toMatch(/more than 100 validation errors/);
  expect(body.errors.at(-1).extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', limit: QUERY_LIMITS.validationErrors });
});

test('more than 50 invalid variable values are BAD_USER_INPUT naming graphql\'s variable error limit, never an internal error (found by the fuzz test)', async () => {
  const query = 'mutation($in: RoleProfileInput!) { createRoleProfile(input: $in) { id } }';
  const roles = Array.from({ length: 51 }, () => ({ roleType: 'USER_MANAGER', expiryDate: '20250101' }));
  for (const app of [dev, prod]) {
    const { status, body } = await post(app, { query, variables: { in: { name: 'p', roles } } }, app === dev ? devToken : prodToken);
    expect(status).toBe(400);
    expect(body.errors.at(-1).message).toMatch(/more than 50 invalid values/);
    expect(body.errors.at(-1).extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: QUERY_LIMITS.variableErrors });
  }
});

// ---------------------------------------------------------------- cost

test('nested lists under users(first: 100) are refused as QUERY_TOO_COMPLEX with the cost, the maximum and HTTP 400', async () => {
  const { status, body } = await post(dev, { query: nestedLists(100) }, devToken);
  expect(status).toBe(400);
  expect(body.data).toBeUndefined();
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0].message).toMatch(/cost 222300 exceeds the maximum of 20000/);
  expect(body.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', cost: 222_300, limit: QUERY_LIMITS.maxCost });
});

test('a query refused for its cost sends no SQL beyond authenticating the operator', async () => {
  const { answer, statements } = await statementsBeyondAuthentication(dev, { query: nestedLists(100) }, devToken);
  expect(answer.body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
  expect(statements).toBe(0);
});

test('users(first: 100) with the list-page fields is accepted', async () => {
  const { status, body } = await post(dev, { query: LIST_PAGE(100) }, devToken);
  expect(body.errors).toBeUndefined();
  expect(status).toBe(200);
  expect(body.data.users.edges.map((e: any) => e.node.displayName)).toHaveLength(body.data.users.totalCount);
});

test('cost scales with first: the nested lists refused at first: 100 are accepted at first: 5', async () => {
  const { body } = await post(dev, { query: nestedLists(5) }, devToken);
  expect(body.errors).toBeUndefined();
  expect(body.data.users.edges.length).toBeGreaterThan(0);
});

test('users without first is costed at its schema default of 20', async () => {
  const { body } = await post(dev, { query: `{ users { ${NESTED_LISTS} } }` }, devToken);
  expect(body.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', cost: 20 * 2223 });
});

test('a first supplied through a variable is counted', async () => {
  const query = `query($n: Int) { users(first: $n) { ${NESTED_LISTS} } }`;
  const refused = await post(dev, { query, variables: { n: 100 } }, devToken);
  expect(refused.body.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', cost: 222_300 });
  const accepted = await post(dev, { query, variables: { n: 5 } }, devToken);
  expect(accepted.body.errors).toBeUndefined();
});

test('the cost of several root fields adds up', async () => {
  // Each users(first: 5) costs 11,115: one passes, two do not.
  const { body } = await post(dev, { query: `{ a: users(first: 5) { ${NESTED_LISTS} } b: users(first: 5) { ${NESTED_LISTS} } }` }, devToken);
  expect(body.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', cost: 22_230 });
});

test('a negative first does not lower the cost of the other fields', async () => {
  const query = `{ a: users(first: -1000000) { totalCount } b: users(first: 100) { ${NESTED_LISTS} } }`;
  const { body } = await post(dev, { query }, devToken);
  expect(body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
});

test('Issue 9 finding 5: a null variable in a directive makes the cost uncomputable: refused naming the cost limit, and nothing runs', async () => {
  // $c has a default, so it may stand where @include needs Boolean!; an explicit null cannot be read. The cost was then
  // taken as 0 and the 222,300-cost query ran (its users page was read, then each proxyFor failed).
  const query = `query($c: Boolean = true) { users(first: 100) { edges { node { proxyFor @include(if: $c) {
    sponsor { proxyFor { sponsor { roles { roleType } } } } } } } } }`;
  const { answer, statements } = await statementsBeyondAuthentication(dev, { query, variables: { c: null } }, devToken);
  expect(answer.status).toBe(400);
  expect(answer.body.data).toBeUndefined();
  expect(answer.body.errors).toHaveLength(1);
  expect(answer.body.errors[0].message).toMatch(/cost of this query cannot be computed.*cost limit \(at most 20000\).*Argument "if" of non-null type "Boolean!" must not be null/);
  expect(answer.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: QUERY_LIMITS.maxCost });
  expect(statements).toBe(0);
});

test('a directive variable of the wrong type is still the usual variable error, not a cost refusal', async () => {
  const query = `query($c: Boolean = true) { me { id @include(if: $c) } }`;
  const { status, body } = await post(dev, { query, variables: { c: 'yes' } }, devToken);
  expect(status).toBe(400);
  expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  expect(body.errors[0].message).toMatch(/Variable "\$c" got invalid value "yes"/);
});

test('Issue 9 finding 5: a null variable for a non-null argument is refused before execution, not costed without that field', async () => {
  // The user field used to be left out of the cost (the other fields counted) and then failed at run time.
  const query = `query($id: ID = "none") { user(id: $id) { id } users(first: 5) { totalCount } }`;
  const { answer, statements } = await statementsBeyondAuthentication(dev, { query, variables: { id: null } }, devToken);
  expect(answer.body.errors).toHaveLength(1);
  expect(answer.body.errors[0].message).toMatch(/cannot be computed.*Argument "id" of non-null type "ID!" must not be null/);
  expect(answer.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: QUERY_LIMITS.maxCost });
  expect(statements).toBe(0);
});

test('a variable of the wrong type is still refused by GraphQL as BAD_USER_INPUT with HTTP 400', async () => {
  const { status, body } = await post(dev, { query: `query($n: Int) { users(first: $n) { totalCount } }`, variables: { n: 'many' } }, devToken);
  expect(status).toBe(400);
  expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  expect(body.errors[0].message).toMatch(/\$n/);
});

test('a fragment spread again and again (a fragment bomb) is refused as QUERY_TOO_COMPLEX', async () => {
  // 25 x 25 x 25 spreads of one field: 15,626 fields once expanded, each cheap enough that the cost alone would pass.
  const spreads = (name: string) => Array.from({ length: 25 }, () => `...${name}`).join(' ');
  const query = `{ me { ...F1 } }
    fragment F1 on User { ${spreads('F2')} }
    fragment F2 on User { ${spreads('F3')} }
    fragment F3 on User { ${spreads('F4')} }
    fragment F4 on User { id }`;
  const { status, body } = await post(dev, { query }, devToken);
  expect(status).toBe(400);
  expect(body.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: QUERY_LIMITS.maxCostedFields });
  expect(body.errors[0].message).toMatch(/more than 10000 fields once its fragments are expanded/);
});

test('development: the full introspection query (Apollo Sandbox) passes every limit', async () => {
  const query = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
  const { body } = await post(dev, { query });
  expect(body.errors).toBeUndefined();
  expect(body.data.__schema.types.length).toBeGreaterThan(10);
});

// ---------------------------------------------------------------- production

test('production: QUERY_TOO_COMPLEX reaches the client unmasked, with the cost, the limit and HTTP 400', async () => {
  const { status, body } = await post(prod, { query: nestedLists(100) }, prodToken);
  expect(status).toBe(400);
  expect(body.errors[0].extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', cost: 222_300, limit: QUERY_LIMITS.maxCost });
});

test('production: a depth refusal reaches the client as GRAPHQL_VALIDATION_FAILED with its message', async () => {
  const deep = `{ users { edges { node { proxyFor { sponsor { proxyFor { sponsor { proxyFor { sponsor { roles { roleType } } } } } } } } } } }`;
  const { status, body } = await post(prod, { query: deep }, prodToken);
  expect(status).toBe(400);
  expect(body.errors[0]).toMatchObject({ message: expect.stringMatching(/depth limit of 10/), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
});

test('production: a misspelt field is refused without suggesting the right name', async () => {
  const { body } = await post(prod, { query: `{ me { displayNam } }` }, prodToken);
  expect(body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  expect(body.errors[0].message).toMatch(/Cannot query field "displayNam" on type "User"/);
  expect(JSON.stringify(body)).not.toMatch(/Did you mean|"displayName"/);
});

test('production: a misspelt enum value is refused without suggesting the values', async () => {
  const { body } = await post(prod, { query: `{ users(filter: { status: ACTIVE_NOT_EXPIRD }) { totalCount } }` }, prodToken);
  expect(body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  expect(JSON.stringify(body)).not.toMatch(/Did you mean|ACTIVE_NOT_EXPIRED/);
});

test('development: a misspelt field is refused with the "Did you mean" suggestion', async () => {
  const { body } = await post(dev, { query: `{ me { displayNam } }` }, devToken);
  expect(body.errors[0].message).toMatch(/Did you mean "displayName"\?/);
});

test('development: a misspelt enum value is refused with the suggested value', async () => {
  const { body } = await post(dev, { query: `{ users(filter: { status: ACTIVE_NOT_EXPIRD }) { totalCount } }` }, devToken);
  expect(body.errors[0].message).toMatch(/Did you mean the enum value "ACTIVE_NOT_EXPIRED"/);
});

// ---------------------------------------------------------------- HTTP

test('a batched request (a JSON array of operations) is refused with HTTP 400', async () => {
  const { status, body } = await post(dev, [{ query: '{ __typename }' }, { query: '{ __typename }' }]);
  expect(status).toBe(400);
  expect(JSON.stringify(body)).toMatch(/batching disabled/i);
});

test('CSRF prevention refuses a GET without a preflight header with HTTP 400', async () => {
  const res = await fetch(`${dev.url}?query=${encodeURIComponent('{ __typename }')}`);
  expect(res.status).toBe(400);
  expect(await res.text()).toMatch(/Cross-Site Request Forgery/);
});

test('a text/plain POST (what a cross-site form can send) is refused with HTTP 415 before Apollo sees it', async () => {
  // Refused as a body that is not JSON (src/server/http-errors.ts) before Apollo's CSRF check would refuse it with 400.
  const body = JSON.stringify({ query: 'mutation { login(identifier: "limitsmgr", password: "x") { token } }' });
  const res = await fetch(dev.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
  expect(res.status).toBe(415);
  expect(((await res.json()) as any).errors[0].extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
});

test('a query text over the 1 MB body limit is refused with HTTP 413 before it is parsed', async () => {
  const query = `{ ${'__typename '.repeat(100_000)}}`;
  const res = await fetch(dev.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  expect(res.status).toBe(413);
  expect(((await res.json()) as any).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
});

test('Issue 12: costs are remembered per query and the variables that size it: the same query is refused, passes and is refused again as its first changes', async () => {
  const query = `query($first: Int, $v: String) { users(first: $first, filter: { name: $v }) { edges { node { identifiers { value } roles { roleType } blocks { type } emails { address } proxyFor { proxy { identifiers { value } roles { roleType } } } } } } }`;
  const costly = { first: 100, v: 'a' };
  for (const variables of [costly, { first: 5, v: 'a' }, { ...costly, v: 'b' }, { first: 5, v: 'c' }]) {
    const { body } = await post(dev, { query, variables }, devToken);
    if (variables.first === 100) expect(body.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX' });
    else expect(body.errors).toBeUndefined();
  }
});
