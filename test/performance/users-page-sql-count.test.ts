import { sqlStatementCount } from '../../src/db/sql-logger';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * A page of users costs a fixed number of SQL statements whatever its size:
 * every per-user field is batched by a DataLoader. The server runs in this
 * process, so the global statement counter sees its statements.
 */
const PATRONS = 60;
const PAGE = `query($first: Int!) {
  users(first: $first) {
    edges { node {
      displayName
      identifiers { value }
      roles { roleType scope { type library { code } } }
      blocks { type }
      hasActiveBlock
      emails { address }
      fineSummary { activeBalance }
    } }
    totalCount
  }
}`;

let app: TestApp;
let inst: InstitutionFixture;
let token: string;

/** Patrons with two identifiers, an email, two roles (institution and library scope), a block and a fine each; half the blocks and fines belong to a library. */
async function seedPatrons(): Promise<void> {
  const db = app.db.dataSource;
  const users = (await db.query(
    `INSERT INTO app_user (institution_id, record_type, account_type, primary_identifier, first_name, last_name, created_by, updated_by)
     SELECT $1, 'PUBLIC', 'INTERNAL', 'patron' || lpad(g::text, 3, '0'), 'Pat', 'Patron ' || lpad(g::text, 3, '0'), 'test', 'test'
     FROM generate_series(1, $2::int) AS g
     RETURNING id, primary_identifier`,
    [inst.id, PATRONS],
  )) as { id: string; primary_identifier: string }[];
  const ids = users.map((u) => u.id);
  const pids = users.map((u) => u.primary_identifier);
  const main = inst.libraries.MAIN.id;
  await db.query(
    `INSERT INTO user_identifier (institution_id, user_id, id_type, value)
     SELECT $1, u, t, t || '-' || p FROM unnest($2::uuid[], $3::text[]) AS x(u, p), unnest(ARRAY['BARCODE', 'UNIV_ID']) AS t`,
    [inst.id, ids, pids],
  );
  await db.query(
    `INSERT INTO user_email (institution_id, user_id, address, email_type, is_preferred)
     SELECT $1, u, p || '@example.edu', 'SCHOOL', true FROM unnest($2::uuid[], $3::text[]) AS x(u, p)`,
    [inst.id, ids, pids],
  );
  await db.query(
    `INSERT INTO role_assignment (institution_id, user_id, role_type, scope_type, created_by)
     SELECT $1, u, 'PATRON', 'INSTITUTION', 'test' FROM unnest($2::uuid[]) AS u`,
    [inst.id, ids],
  );
  // A library-scoped role too, so that every page also resolves scope.library.
  await db.query(
    `INSERT INTO role_assignment (institution_id, user_id, role_type, scope_type, scope_library_id, created_by)
     SELECT $1, u, 'INSTRUCTOR', 'LIBRARY', CASE WHEN n % 2 = 0 THEN $3::uuid ELSE $4::uuid END, 'test'
     FROM unnest($2::uuid[]) WITH ORDINALITY AS x(u, n)`,
    [inst.id, ids, main, inst.libraries.LAW.id],
  );
  await db.query(
    `INSERT INTO user_block (institution_id, user_id, block_type, owner_library_id, note, created_by)
     SELECT $1, u, 'GENERAL', CASE WHEN n % 2 = 0 THEN $3::uuid END, 'seeded', 'test' FROM unnest($2::uuid[]) WITH ORDINALITY AS x(u, n)`,
    [inst.id, ids, main],
  );
  await db.query(
    `INSERT INTO fine_fee (institution_id, user_id, fine_type, owner_library_id, original_amount, remaining_amount, created_by)
     SELECT $1, u, 'OVERDUEFINE', CASE WHEN n % 2 = 1 THEN $3::uuid END, 2.50, 2.50, 'test' FROM unnest($2::uuid[]) WITH ORDINALITY AS x(u, n)`,
    [inst.id, ids, main],
  );
}

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(app.db.dataSource);
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'pagemgr', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await seedPatrons();
  token = await app.login('pagemgr', PASSWORD);
});
afterAll(() => app.close());

/** Runs one page request and returns its response and how many SQL statements the server sent for it. */
async function countedPage(first: number) {
  const before = sqlStatementCount();
  const res = await app.gql(PAGE, { first }, token);
  return { res, statements: sqlStatementCount() - before };
}

test('the seeded page data is complete: every patron row carries identifiers, roles, a block, an email and a fine', async () => {
  const { res } = await countedPage(50);
  expect(res.errors).toBeUndefined();
  expect(res.data.users.totalCount).toBe(PATRONS + 1);
  const patrons = res.data.users.edges.map((e: any) => e.node).filter((n: any) => n.displayName.startsWith('Pat '));
  expect(patrons.length).toBeGreaterThanOrEqual(49);
  for (const p of patrons) {
    expect(p.identifiers).toHaveLength(2);
    expect(p.roles).toEqual(expect.arrayContaining([
      { roleType: 'PATRON', scope: { type: 'INSTITUTION', library: null } },
      { roleType: 'INSTRUCTOR', scope: { type: 'LIBRARY', library: { code: expect.stringMatching(/^(MAIN|LAW)$/) } } },
    ]));
    expect(p.roles).toHaveLength(2);
    expect(p.blocks).toEqual([{ type: 'GENERAL' }]);
    expect(p.hasActiveBlock).toBe(true);
    expect(p.emails).toHaveLength(1);
    expect(Number(p.fineSummary.activeBalance)).toBe(2.5);
  }
});

test('a page of 50 users costs the same number of SQL statements as a page of 5', async () => {
  const five = await countedPage(5);
  const fifty = await countedPage(50);
  expect(five.res.errors).toBeUndefined();
  expect(fifty.res.errors).toBeUndefined();
  expect(five.res.data.users.edges).toHaveLength(5);
  expect(fifty.res.data.users.edges).toHaveLength(50);
  console.log(`users page SQL statements: first: 5 -> ${five.statements}, first: 50 -> ${fifty.statements}`);
  expect(fifty.statements).toBe(five.statements);
});
