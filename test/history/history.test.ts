import { sqlStatementCount } from '../../src/db/sql-logger';
import type { DataSource } from 'typeorm';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Specification of `User.history` (issue 4): R9 (what was recorded, newest
 * first, a page at a time) and R5.2 (entries about items owned by a library
 * outside the operator's scopes are not returned, nor counted).
 */

let app: TestApp;
let inst: InstitutionFixture;
let institutionManager: string;
let mainManager: string;
const db = (): DataSource => app.db.dataSource;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db(), 'HIST', { libraryIndependence: true });
  await createPerson(db(), inst, { primaryIdentifier: 'um_hist', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await createPerson(db(), inst, { primaryIdentifier: 'um_hist_main', roles: [['USER_MANAGER', 'MAIN']] });
  [institutionManager, mainManager] = await Promise.all([app.login('um_hist', PASSWORD), app.login('um_hist_main', PASSWORD)]);
});
afterAll(() => app.close());

const HISTORY = `
  query($id: ID!, $first: Int, $after: String) {
    user(id: $id) {
      history(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id field oldValue newValue changedBy changedAt } }
      }
    }
  }`;

async function page(userId: string, args: { first?: number; after?: string } = {}, token = institutionManager) {
  const res = await app.gql(HISTORY, { id: userId, ...args }, token);
  expect(res.errors).toBeUndefined();
  return res.data.user.history;
}

/** Inserts history entries in this order (so the last one is the newest), optionally owned by a library. */
async function recorded(userId: string, entries: { field: string; library?: 'MAIN' | 'LAW' }[]): Promise<void> {
  for (const e of entries) {
    await db().query(
      `INSERT INTO history_entry (institution_id, user_id, field, old_value, new_value, owner_library_id, changed_by) VALUES ($1, $2, $3, 'old', 'new', $4, 'tester')`,
      [inst.id, userId, e.field, e.library ? inst.libraries[e.library].id : null],
    );
  }
}

const fields = (history: { edges: { node: { field: string } }[] }) => history.edges.map((e) => e.node.field);

test('R9 history lists the changes newest first, with who, when and the old and new values', async () => {
  const userId = await createPerson(db(), inst, { recordType: 'PUBLIC' });
  await recorded(userId, [{ field: 'first' }, { field: 'second' }, { field: 'third' }]);
  const history = await page(userId);
  expect(fields(history)).toEqual(['third', 'second', 'first']);
  expect(history.edges[0].node).toMatchObject({ oldValue: 'old', newValue: 'new', changedBy: 'tester', changedAt: expect.any(String) });
});

test('R9 history pages follow each other through the cursors, and totalCount counts all pages', async () => {
  const userId = await createPerson(db(), inst, { recordType: 'PUBLIC' });
  await recorded(userId, ['e1', 'e2', 'e3', 'e4', 'e5'].map((field) => ({ field })));
  const first = await page(userId, { first: 2 });
  expect(fields(first)).toEqual(['e5', 'e4']);
  expect(first.totalCount).toBe(5);
  expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false, endCursor: first.edges[1].cursor });
  const second = await page(userId, { first: 2, after: first.pageInfo.endCursor });
  expect(fields(second)).toEqual(['e3', 'e2']);
  const last = await page(userId, { first: 2, after: second.pageInfo.endCursor });
  expect(fields(last)).toEqual(['e1']);
  expect(last.pageInfo.hasNextPage).toBe(false);
  expect(last.totalCount).toBe(5);
});

test('R9 an update made through the API shows in the user\'s history', async () => {
  const userId = await createPerson(db(), inst, { recordType: 'PUBLIC' });
  await app.gql(`mutation($id: ID!) { updateUser(id: $id, input: { title: "Dr" }) { id } }`, { id: userId }, institutionManager);
  expect((await page(userId)).edges.map((e: { node: unknown }) => e.node)).toEqual([
    expect.objectContaining({ field: 'title', oldValue: null, newValue: 'Dr', changedBy: 'um_hist' }),
  ]);
});

test('R5.2 history entries owned by a library outside the operator\'s scope are neither returned nor counted', async () => {
  const userId = await createPerson(db(), inst, { recordType: 'PUBLIC' });
  await recorded(userId, [{ field: 'general' }, { field: 'main note', library: 'MAIN' }, { field: 'law block', library: 'LAW' }]);
  const scoped = await page(userId, {}, mainManager);
  expect(fields(scoped)).toEqual(['main note', 'general']);
  expect(scoped.totalCount).toBe(2);
  const everything = await page(userId);
  expect(fields(everything)).toEqual(['law block', 'main note', 'general']);
  expect(everything.totalCount).toBe(3);
});

test('a cursor that this API did not return is BAD_USER_INPUT naming after', async () => {
  const userId = await createPerson(db(), inst, { recordType: 'PUBLIC' });
  const res = await app.gql(HISTORY, { id: userId, after: 'bm90LWEtY3Vyc29y' }, institutionManager);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
});

test('a page size outside 1 to 100 is BAD_USER_INPUT naming first', async () => {
  const userId = await createPerson(db(), inst, { recordType: 'PUBLIC' });
  const res = await app.gql(HISTORY, { id: userId, first: 0 }, institutionManager);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
});

test('history on a list of users is batched: the same statements for a page of 2 users as of 5', async () => {
  for (let i = 0; i < 5; i++) await recorded(await createPerson(db(), inst, { recordType: 'PUBLIC', lastName: `Listed${i}` }), [{ field: 'listed' }]);
  const page = (first: number) => app.gql(`{ users(first: ${first}, filter: { name: "listed" }) { edges { node { history(first: 1) { totalCount edges { node { field } } } } } } }`, {}, institutionManager);
  const statements = async (first: number) => {
    const before = sqlStatementCount();
    const res = await page(first);
    expect(res.errors).toBeUndefined();
    expect(res.data.users.edges.map((e: any) => e.node.history.edges[0].node.field)).toEqual(Array(first).fill('listed'));
    return sqlStatementCount() - before;
  };
  expect(await statements(2)).toBe(await statements(5));
});
