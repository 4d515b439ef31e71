import { sqlStatementCount } from '../../src/db/sql-logger';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 13 item 2: a users page with each user's open loan count and loans costs a fixed number of SQL statements
 * whatever its size: openLoanCount is read in the page's own statement (a child set) and loans by one DataLoader
 * statement per page. The server runs in this process, so the global statement counter sees its statements.
 */
const PATRONS = 60;
const page = (fields: string) => `query($first: Int!) { users(first: $first, filter: { recordType: PUBLIC }) { edges { node { primaryIdentifier ${fields} } } } }`;
const COUNT_ONLY = page('openLoanCount');
const WITH_LOANS = page('openLoanCount loans { itemBarcode dueDate overdue owner { library { code } } }');

let app: TestApp;
let inst: InstitutionFixture;
let token: string;
let lawToken: string;

/** Patrons with two open loans each (MAIN and LAW) and one returned loan. */
async function seedBorrowers(): Promise<void> {
  const db = app.db.dataSource;
  const users: { id: string }[] = await db.query(
    `INSERT INTO app_user (institution_id, record_type, account_type, primary_identifier, first_name, last_name, created_by, updated_by)
     SELECT $1, 'PUBLIC', 'INTERNAL', 'borrower' || lpad(g::text, 3, '0'), 'Bo', 'Borrower ' || lpad(g::text, 3, '0'), 'test', 'test'
     FROM generate_series(1, $2::int) AS g RETURNING id`,
    [inst.id, PATRONS],
  );
  await db.query(
    `INSERT INTO loan (institution_id, user_id, library_id, item_barcode, loan_date, due_date, returned_at)
     SELECT $1, u, lib, 'I-' || n || '-' || k, now() - interval '3 days', now() + interval '11 days', CASE WHEN k = 3 THEN now() END
     FROM unnest($2::uuid[]) WITH ORDINALITY AS x(u, n), unnest(ARRAY[$3::uuid, $4::uuid, $3::uuid]) WITH ORDINALITY AS y(lib, k)`,
    [inst.id, users.map((u) => u.id), inst.libraries.MAIN.id, inst.libraries.LAW.id],
  );
}

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(app.db.dataSource);
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'loanpagemgr', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'loanpagelaw', roles: [['USER_MANAGER', 'LAW']] });
  await seedBorrowers();
  token = await app.login('loanpagemgr', PASSWORD);
  lawToken = await app.login('loanpagelaw', PASSWORD);
});
afterAll(() => app.close());

async function counted(query: string, first: number, as = token) {
  const before = sqlStatementCount();
  const res = await app.gql(query, { first }, as);
  expect(res.errors).toBeUndefined();
  return { nodes: res.data.users.edges.map((e: any) => e.node), statements: sqlStatementCount() - before };
}

test('the page data is complete: two open loans each, the returned one left out, a LAW-scoped operator sees its one', async () => {
  const { nodes } = await counted(WITH_LOANS, 50);
  expect(nodes).toHaveLength(50);
  for (const n of nodes) {
    expect(n.openLoanCount).toBe(2);
    expect(n.loans.map((l: any) => l.owner.library.code).sort()).toEqual(['LAW', 'MAIN']);
  }
  const law = await counted(WITH_LOANS, 50, lawToken);
  for (const n of law.nodes) expect([n.openLoanCount, n.loans.map((l: any) => l.owner.library.code)]).toEqual([1, ['LAW']]);
});

test('R5.2 a users page of 50 with openLoanCount costs the same statements as a page of 5, and as the page without it', async () => {
  // Each text once before it is counted: what a first request of a text costs beyond its statements is not the point.
  for (const query of [page(''), COUNT_ONLY]) await counted(query, 50);
  const plain = await counted(page(''), 50);
  const five = await counted(COUNT_ONLY, 5);
  const fifty = await counted(COUNT_ONLY, 50);
  console.log(`users page with openLoanCount: first: 5 -> ${five.statements}, first: 50 -> ${fifty.statements} (without it: ${plain.statements})`);
  expect(fifty.statements).toBe(five.statements);
  expect(fifty.statements).toBe(plain.statements);
});

test('R5.2 a users page of 50 with loans costs the same statements as a page of 5', async () => {
  const five = await counted(WITH_LOANS, 5);
  const fifty = await counted(WITH_LOANS, 50);
  console.log(`users page with loans: first: 5 -> ${five.statements}, first: 50 -> ${fifty.statements}`);
  expect(fifty.statements).toBe(five.statements);
});
