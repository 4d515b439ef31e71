import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

let app: TestApp;
let inst: InstitutionFixture;
let patronId: string;

const USER = `query($id: ID!) { user(id: $id) {
  blocks(activeOnly: false) { type owner { institution library { code } } }
  hasActiveBlock
  fineSummary { activeBalance openCount }
} }`;

beforeAll(async () => {
  app = await startTestApp();
  const db = app.db.dataSource;
  inst = await createInstitution(db);
  patronId = await createPerson(db, inst, { recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']], withPassword: false });
  const owners = { LAW: inst.libraries.LAW.id, MAIN: inst.libraries.MAIN.id };
  await db.query(
    `INSERT INTO user_block (institution_id, user_id, block_type, owner_library_id, created_by) VALUES ($1, $2, 'GENERAL', $3, 'test')`,
    [inst.id, patronId, owners.LAW],
  );
  await db.query(
    `INSERT INTO fine_fee (institution_id, user_id, fine_type, owner_library_id, original_amount, remaining_amount, created_by)
     VALUES ($1, $2, 'OVERDUEFINE', $3, '10.00', '10.00', 'test'), ($1, $2, 'OVERDUEFINE', $4, '2.50', '2.50', 'test'),
            ($1, $2, 'CARDRENEWAL', NULL, '1.25', '1.25', 'test')`,
    [inst.id, patronId, owners.LAW, owners.MAIN],
  );
  await db.query(
    `INSERT INTO fine_fee (institution_id, user_id, fine_type, owner_library_id, original_amount, remaining_amount, status, created_by)
     VALUES ($1, $2, 'OVERDUEFINE', $3, '4.00', '4.00', 'IN_DISPUTE', 'test'), ($1, $2, 'OVERDUEFINE', $4, '6.00', '6.00', 'IN_DISPUTE', 'test')`,
    [inst.id, patronId, owners.LAW, owners.MAIN],
  );
  await db.query(
    `INSERT INTO user_note (institution_id, user_id, text, owner_library_id, created_by)
     VALUES ($1, $2, 'law note', $3, 'test'), ($1, $2, 'main note', $4, 'test'), ($1, $2, 'institution note', NULL, 'test')`,
    [inst.id, patronId, owners.LAW, owners.MAIN],
  );
  await db.query(
    `INSERT INTO user_statistic (institution_id, user_id, category_type, category, owner_library_id)
     VALUES ($1, $2, 'DEPT', 'LAW_SCHOOL', $3), ($1, $2, 'DEPT', 'MAIN_CAMPUS', $4)`,
    [inst.id, patronId, owners.LAW, owners.MAIN],
  );
  await createPerson(db, inst, { primaryIdentifier: 'main_circ', roles: [['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']] });
  await createPerson(db, inst, { primaryIdentifier: 'inst_um', roles: [['USER_MANAGER', 'INSTITUTION']] });
  // Most staff are patrons too; the Patron role needs no scope and is stored at the institution.
  await createPerson(db, inst, { primaryIdentifier: 'main_circ_patron', roles: [['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'], ['PATRON', 'INSTITUTION']] });
});

test('R5.2 the Patron role does not widen the scope of a desk operator: the blocks, notes, statistics and fines of another library stay hidden', async () => {
  const res = await app.gql(`query($id: ID!) { user(id: $id) {
    blocks(activeOnly: false) { owner { library { code } } } hasActiveBlock notes { text } statistics { category }
    fineSummary { activeBalance openCount }
  } }`, { id: patronId }, await app.login('main_circ_patron', PASSWORD));
  expect(res.data.user).toEqual({
    blocks: [], hasActiveBlock: false, notes: expect.arrayContaining([{ text: 'main note' }]), statistics: [{ category: 'MAIN_CAMPUS' }],
    fineSummary: { activeBalance: '3.75', openCount: 3 },
  });
  expect(res.data.user.notes).toHaveLength(2);
});
afterAll(() => app.close());

test('R5.2 an operator scoped to the Main desk does not see a block owned by the Law library', async () => {
  const res = await app.gql(USER, { id: patronId }, await app.login('main_circ', PASSWORD));
  expect(res.data.user.blocks).toEqual([]);
  expect(res.data.user.hasActiveBlock).toBe(false);
});

test('R5.2 balances leave out fines owned by libraries outside the scope, and keep institution-owned ones', async () => {
  const res = await app.gql(USER, { id: patronId }, await app.login('main_circ', PASSWORD));
  expect(res.data.user.fineSummary).toEqual({ activeBalance: '3.75', openCount: 3 });
});

const LISTS = `query($id: ID!) { user(id: $id) {
  notes { text }
  statistics { category }
  active: fines { originalAmount owner { library { code } } }
  disputed: fines(status: [IN_DISPUTE]) { originalAmount }
  all: fines(status: [ACTIVE, IN_DISPUTE, CLOSED, TRANSFERRED]) { id }
  fineSummary { disputedBalance }
} }`;

test('R5.2 notes owned by another library are not retrieved; institution notes are', async () => {
  const res = await app.gql(LISTS, { id: patronId }, await app.login('main_circ', PASSWORD));
  expect(res.data.user.notes.map((n: { text: string }) => n.text).sort()).toEqual(['institution note', 'main note']);
});

test('R5.2 statistics owned by another library are not retrieved', async () => {
  const res = await app.gql(LISTS, { id: patronId }, await app.login('main_circ', PASSWORD));
  expect(res.data.user.statistics).toEqual([{ category: 'MAIN_CAMPUS' }]);
});

test('R5.2 fine lists leave out other libraries, with and without a status filter', async () => {
  const res = await app.gql(LISTS, { id: patronId }, await app.login('main_circ', PASSWORD));
  expect(res.data.user.active.map((f: { originalAmount: string }) => f.originalAmount).sort()).toEqual(['1.25', '2.50']);
  expect(res.data.user.disputed).toEqual([{ originalAmount: '6.00' }]);
  expect(res.data.user.all).toHaveLength(3);
  expect(res.data.user.fineSummary.disputedBalance).toBe('6.00');
});

test('R7.9 a fine list shows ACTIVE fines unless a status is asked for', async () => {
  const res = await app.gql(LISTS, { id: patronId }, await app.login('inst_um', PASSWORD));
  expect(res.data.user.active).toHaveLength(3);
  expect(res.data.user.disputed).toHaveLength(2);
  expect(res.data.user.all).toHaveLength(5);
});

test('R5.2 the users list page applies the same scope to every row', async () => {
  const res = await app.gql(`{ users(first: 10, filter: { recordType: PUBLIC }) { edges { node { hasActiveBlock fineSummary { activeBalance } } } } }`,
    {}, await app.login('main_circ', PASSWORD));
  expect(res.data.users.edges).toEqual([{ node: { hasActiveBlock: false, fineSummary: { activeBalance: '3.75' } } }]);
});

test('R5.2 an institution-scoped operator sees every owner', async () => {
  const res = await app.gql(USER, { id: patronId }, await app.login('inst_um', PASSWORD));
  expect(res.data.user.blocks).toEqual([{ type: 'GENERAL', owner: { institution: false, library: { code: 'LAW' } } }]);
  expect(res.data.user.hasActiveBlock).toBe(true);
  expect(res.data.user.fineSummary).toEqual({ activeBalance: '13.75', openCount: 5 });
});
