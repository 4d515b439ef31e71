import { createTokenIssuer } from '../../src/auth/tokens';
import { sqlStatementCount } from '../../src/db/sql-logger';
import { createServer, CarrelServer } from '../../src/server';
import { createInstitution, createPatron, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { givenOwnedItem } from '../support/owned-items';
import { createTestDatabase, TestDatabase } from '../support/test-db';

/**
 * Issue 12: users and userByIdentifier read the children and columns a query selects in the users' own statement
 * (src/users/user-children.ts), and queries run compiled by graphql-jit (src/server/compiled-execution.ts). The same
 * server with read-ahead off and compilation off resolves every child through its DataLoader, one statement per kind,
 * on graphql-js, as Carrel did before. Over one database, a corpus of queries asked by an institution-wide operator
 * and two library-scoped ones must get identical answers both ways.
 */
let db: TestDatabase;
let inst: InstitutionFixture;
const servers: Record<'ahead' | 'loaders', { server: CarrelServer; url: string }> = {} as never;
const tokens: Record<string, string> = {};

async function post(url: string, query: string, variables: Record<string, unknown>, token: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return res.json() as Promise<{ data?: any; errors?: any[] }>;
}

async function both(query: string, variables: Record<string, unknown>, token: string) {
  return { ahead: await post(servers.ahead.url, query, variables, token), loaders: await post(servers.loaders.url, query, variables, token) };
}

beforeAll(async () => {
  db = await createTestDatabase();
  const ds = db.dataSource;
  inst = await createInstitution(ds, 'EQ', { libraryIndependence: true, debtLimit: '10.00' });
  for (const [key, readAhead, compileAfter] of [['ahead', true, 1], ['loaders', false, null]] as const) {
    const server = await createServer({
      db: ds, tokens: createTokenIssuer('test-secret', 3600), production: false, budget: null, readAhead, compile: { compileAfter, maxCompiled: 100 },
    });
    servers[key] = { server, url: `http://127.0.0.1:${await server.listen(0)}/graphql` };
  }
  for (const [id, role] of [['eq_admin', ['USER_ADMINISTRATOR', 'INSTITUTION']], ['eq_main', ['USER_MANAGER', 'MAIN']], ['eq_law', ['USER_MANAGER', 'LAW']]] as const) {
    await createPerson(ds, inst, { primaryIdentifier: id, roles: [[role[0], role[1]]] });
  }
  // Patrons with a mix of children: identifiers, contacts, roles of every scope, blocks and fines of every owner,
  // expired blocks, no children at all, an expired account.
  for (let i = 0; i < 24; i++) {
    const id = await createPatron(ds, inst, {
      primaryIdentifier: `eq${String(i).padStart(2, '0')}`,
      firstName: ['Ana', 'Bo', 'Cy'][i % 3],
      lastName: `Patron ${i}`,
      expiryDate: i % 5 === 0 ? '2001-01-01' : null,
      identifiers: i % 4 === 0 ? [] : [['BARCODE', `b-eq-${i}`], ['UNIV_ID', `u-eq-${i}`]],
      roles: i % 3 === 0 ? [['PATRON', 'INSTITUTION'], ['INSTRUCTOR', 'MAIN']] : [['PATRON', 'INSTITUTION']],
    });
    if (i % 2 === 0) await givenOwnedItem(ds, inst, 'user_block', id, (['MAIN', 'LAW', null] as const)[i % 3], { block_type: 'GENERAL', note: `block ${i}`, created_by: 'test' });
    if (i % 6 === 1) await givenOwnedItem(ds, inst, 'user_block', id, 'MAIN', { block_type: 'GENERAL', expiry_date: '2002-02-02T10:00:00Z', created_by: 'test' });
    if (i % 3 !== 2) {
      await ds.query(
        `INSERT INTO fine_fee (institution_id, user_id, fine_type, owner_library_id, original_amount, remaining_amount, status, created_by)
         VALUES ($1, $2, 'OVERDUEFINE', $3, $4, $4, $5, 'test')`,
        [inst.id, id, i % 2 ? inst.libraries.LAW.id : inst.libraries.MAIN.id, `${i}.05`, i % 4 === 1 ? 'IN_DISPUTE' : 'ACTIVE'],
      );
    }
    if (i % 4 === 2) {
      await ds.query(`INSERT INTO user_email (institution_id, user_id, address, email_type, is_preferred) VALUES ($1, $2, $3, 'SCHOOL', true), ($1, $2, $4, 'PERSONAL', false)`,
        [inst.id, id, `eq${i}@example.edu`, `eq${i}@example.org`]);
      await ds.query(`INSERT INTO user_address (institution_id, user_id, address_type, line1, city, country, is_preferred, start_date)
                      VALUES ($1, $2, 'HOME', $3, 'Springfield', 'US', true, '2020-01-01')`, [inst.id, id, `${i} Main Street`]);
      await ds.query(`INSERT INTO user_phone (institution_id, user_id, phone_number, phone_type, is_preferred) VALUES ($1, $2, $3, 'MOBILE', true)`,
        [inst.id, id, `+1 555 01${String(i).padStart(2, '0')}`]);
    }
  }
  for (const id of ['eq_admin', 'eq_main', 'eq_law']) {
    const res = await post(servers.ahead.url, `mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }`, { i: id, p: PASSWORD }, '');
    tokens[id] = res.data.login.token;
  }
});

afterAll(async () => {
  for (const s of Object.values(servers)) await s?.server.stop();
  await db?.drop();
});

const ROW = `id displayName primaryIdentifier userGroup expiryDate activeNotExpired hasPassword
  identifiers { type value external } emails { address type preferred } addresses { type } phones { number }
  roles { roleType active expiryDate scope { type library { code } desk { code } } }
  blocks { id type note expiresAt active external createdAt owner { institution library { code } } } allBlocks: blocks(activeOnly: false) { type expiresAt }
  hasActiveBlock fineSummary { activeBalance disputedBalance transferredBalance openCount exceedsDebtLimit }`;

const CORPUS: [name: string, query: string, variables?: Record<string, unknown>][] = [
  ['the list page', `{ users(first: 50, filter: { recordType: PUBLIC }) { totalCount edges { cursor node { ${ROW} } } pageInfo { hasNextPage endCursor } } }`],
  ['a name search', `{ users(first: 10, filter: { name: "an" }) { totalCount edges { node { ${ROW} } } } }`],
  ['active blocks by expiry', `{ users(first: 10, filter: { hasActiveBlock: true }, sort: { field: EXPIRY_DATE, direction: DESC }) { totalCount edges { node { ${ROW} } } } }`],
  ['no active block', `{ users(first: 30, filter: { hasActiveBlock: false, status: ACTIVE_NOT_EXPIRED }) { totalCount edges { node { id blocks { type } } } } }`],
  ['fragments, aliases and directives', `query($with: Boolean!) {
      users(first: 20, sort: { field: PRIMARY_IDENTIFIER, direction: ASC }) { edges { node { ...Who ... on User { ids: identifiers { value } } fineSummary @include(if: $with) { activeBalance } roles @skip(if: $with) { roleType } } } }
    }
    fragment Who on User { id primaryIdentifier identifiers { type } blocks { type } }`, { with: true }],
  ['the same with the directives flipped', `query($with: Boolean!) {
      users(first: 20) { edges { node { id fineSummary @include(if: $with) { activeBalance } roles @skip(if: $with) { roleType } } } }
    }`, { with: false }],
  ['a lookup by primary identifier', `query($v: String!) { userByIdentifier(value: $v) { ${ROW} } }`, { v: 'EQ03' }],
  ['a lookup by an additional identifier', `query($v: String!) { userByIdentifier(value: $v) { ${ROW} } }`, { v: 'u-eq-6' }],
  ['a lookup of nobody', `query($v: String!) { userByIdentifier(value: $v) { id identifiers { value } } }`, { v: 'nobody' }],
  ['every scalar field of a user', `{ users(first: 30) { edges { node {
      id recordType accountType externalOwner primaryIdentifier displayName firstName middleName lastName preferredFirstName
      preferredMiddleName preferredLastName title jobCategory jobDescription gender userGroup campus websiteUrl preferredLanguage
      status statusDate birthDate expiryDate purgeDate lastPatronActivityDate resourceSharingLibraries purchaseRequestLibraries
      catalogerLevel patronLetters hasPassword forcePasswordChange mfaEnabled restricted protected activeNotExpired createdBy
      createdAt updatedBy updatedAt purgedAt keptFields
    } } } }`],
  ['every field of every embedded child', `{ users(first: 30) { edges { node { id
      identifiers { id type value note external __typename }
      emails { id address type description preferred startDate endDate external }
      addresses { id type line1 city stateProvince postalCode country note preferred startDate endDate external }
      phones { id number type preferred startDate endDate external }
      roles { id roleType label scope { type library { id code } desk { id code } } active expiryDate countsAsNamedUser }
      blocks(activeOnly: false) { id type owner { institution library { code } } note expiresAt active external createdAt }
    } } } }`],
  ['a child with only __typename, and hasActiveBlock alone', `{ users(first: 30) { edges { node { identifiers { __typename } hasActiveBlock } } } }`],
  ['parts of the fine summary', `{ users(first: 30) { edges { node { a: fineSummary { openCount } b: fineSummary { __typename exceedsDebtLimit } } } } }`],
  ['the fine summary by __typename alone, and displayName alone', `{ users(first: 30) { edges { node { displayName fineSummary { __typename } } } } }`],
  ['a user by id beside a page', `{ users(first: 3) { edges { node { id primaryIdentifier identifiers { value } } } } }`],
];

describe.each(['eq_admin', 'eq_main', 'eq_law'])('Issue 12: as %s, read-ahead and compiled execution answer exactly what the loaders on graphql-js answer', (operator) => {
  test.each(CORPUS)('%s', async (_name, query, variables = {}) => {
    // Twice: the first answer may come before a compiled query is used, the second comes from it.
    for (let i = 0; i < 2; i++) {
      const { ahead, loaders } = await both(query, variables, tokens[operator]);
      expect(ahead.errors).toBeUndefined();
      expect(ahead).toEqual(loaders);
    }
  });
});

test('Issue 12: the corpus is not trivial: pages hold users with identifiers, roles, blocks and fines, and a library operator sees fewer blocks', async () => {
  const query = CORPUS[0][1];
  const admin = (await post(servers.ahead.url, query, {}, tokens.eq_admin)).data.users.edges.map((e: any) => e.node);
  const main = (await post(servers.ahead.url, query, {}, tokens.eq_main)).data.users.edges.map((e: any) => e.node);
  expect(admin.filter((u: any) => u.identifiers.length > 0).length).toBeGreaterThan(10);
  expect(admin.filter((u: any) => u.roles.length > 1).length).toBeGreaterThan(5);
  expect(admin.filter((u: any) => u.hasActiveBlock).length).toBeGreaterThan(5);
  expect(admin.filter((u: any) => u.fineSummary.activeBalance !== '0.00').length).toBeGreaterThan(5);
  const contacts = (await post(servers.ahead.url, CORPUS.find(([name]) => name === 'every field of every embedded child')![1], {}, tokens.eq_admin)).data.users.edges;
  expect(contacts.filter((e: any) => e.node.addresses.length > 0 && e.node.phones.length > 0 && e.node.emails.length > 1).length).toBeGreaterThan(3);
  const blocks = (users: any[]) => users.reduce((n, u) => n + u.allBlocks.length, 0);
  expect(blocks(main)).toBeLessThan(blocks(admin));
});

async function statementsOf(query: string, variables: Record<string, unknown>) {
  const before = sqlStatementCount();
  const res = await post(servers.ahead.url, query, variables, tokens.eq_admin);
  expect(res.errors).toBeUndefined();
  return sqlStatementCount() - before;
}

test('Issue 12: the list page with identifiers, roles, blocks and the fine summary costs 3 statements: the operator, the page with its children, the count', async () => {
  const page = `{ users(first: 50, filter: { recordType: PUBLIC }) { totalCount edges { node { id identifiers { type value } roles { roleType } blocks { type } hasActiveBlock fineSummary { activeBalance } } } } }`;
  expect(await statementsOf(page, {})).toBe(3);
});

test('Issue 12: the point lookup with identifiers and roles costs 2 statements: the operator, the user with its children', async () => {
  const lookup = `query($v: String!) { userByIdentifier(value: $v) { id displayName identifiers { type value } roles { roleType } } }`;
  expect(await statementsOf(lookup, { v: 'eq07' })).toBe(2);
});

// Attacks on the embedded reads as an operator scoped to one library (R5.2): the children read in the users' own
// statement must hide the other library's items exactly as the loaders do, in the list and in the lookup.
const OWNED = `{ primaryIdentifier blocks(activeOnly: false) { owner { library { code } } } hasActiveBlock fineSummary { activeBalance openCount } }`;

test('Issue 12: R5.2 a MAIN-scoped operator\'s list page embeds no LAW block and sums no LAW fine', async () => {
  const res = await post(servers.ahead.url, `{ users(first: 50, filter: { recordType: PUBLIC }) { edges { node ${OWNED} } } }`, {}, tokens.eq_main);
  expect(res.errors).toBeUndefined();
  const nodes = res.data.users.edges.map((e: any) => e.node);
  expect(nodes.flatMap((n: any) => n.blocks.map((b: any) => b.owner.library?.code ?? null))).not.toContain('LAW');
  // eq04 has one block, owned by LAW, and one fine, owned by MAIN.
  expect(nodes.find((n: any) => n.primaryIdentifier === 'eq04')).toEqual({
    primaryIdentifier: 'eq04', blocks: [], hasActiveBlock: false, fineSummary: { activeBalance: '4.05', openCount: 1 },
  });
});

test('Issue 12: R5.2 a LAW-scoped operator\'s lookup embeds the LAW block and sums no MAIN fine', async () => {
  const res = await post(servers.ahead.url, `query($v: String!) { userByIdentifier(value: $v) ${OWNED} }`, { v: 'eq04' }, tokens.eq_law);
  expect(res.errors).toBeUndefined();
  expect(res.data.userByIdentifier).toEqual({
    primaryIdentifier: 'eq04', blocks: [{ owner: { library: { code: 'LAW' } } }], hasActiveBlock: true, fineSummary: { activeBalance: '0.00', openCount: 0 },
  });
});

test('Issue 12: without a token, a query compiled for others is UNAUTHENTICATED and reads nothing', async () => {
  const query = `{ users(first: 5) { edges { node { id identifiers { value } } } } }`;
  expect((await post(servers.ahead.url, query, {}, tokens.eq_admin)).errors).toBeUndefined();
  for (let i = 0; i < 2; i++) {
    const res = await post(servers.ahead.url, query, {}, '');
    expect(res.data?.users ?? null).toBeNull();
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  }
});
