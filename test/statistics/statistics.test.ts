import { InstitutionFixture, PASSWORD, PersonSpec, createInstitution, createPatron, createPerson, loginOperators } from '../support/fixtures';
import { givenOwnedItem, OwnerCode, ownedItemState } from '../support/owned-items';
import { startTestApp, TestApp } from '../support/test-app';

let app: TestApp;
let inst: InstitutionFixture;
const tokens: Record<string, string> = {};

const ADD = `mutation($u: ID!, $in: StatisticInput!) { addStatistic(userId: $u, input: $in) {
  id categoryType category note external owner { institution library { code } } } }`;
const UPDATE = `mutation($id: ID!, $in: StatisticInput!) { updateStatistic(id: $id, input: $in) { id categoryType category note owner { institution library { code } } } }`;
const REMOVE = `mutation($id: ID!) { removeStatistic(id: $id) { id statistics { id } } }`;

const db = () => app.db.dataSource;
const patron = (spec: PersonSpec = {}) => createPatron(db(), inst, spec);
const libraryId = (code: 'MAIN' | 'LAW') => inst.libraries[code].id;
const lawDept = (ownerLibraryId?: string | null) => ({ categoryType: 'FACULTY_DEPT', category: 'DEPT_LAW', ownerLibraryId });

const givenStatistic = (userId: string, owner: OwnerCode, opts: { external?: boolean } = {}) =>
  givenOwnedItem(db(), inst, 'user_statistic', userId, owner, { category_type: 'FACULTY_DEPT', category: 'DEPT_HISTORY' }, opts);
/** Everything a refused request must leave as it was. */
const state = (userId: string) => ownedItemState(db(), 'user_statistic', 'category_type, category, note, owner_library_id', userId);

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await db().query(
    `INSERT INTO code_value (institution_id, kind, code, description) VALUES ($1, 'STATISTIC_CATEGORY', 'DEPT_LAW', 'Law'), ($1, 'STATISTIC_CATEGORY', 'DEPT_HISTORY', 'History')`,
    [inst.id],
  );
  Object.assign(tokens, await loginOperators(app, inst, {
    um: ['USER_MANAGER', 'INSTITUTION'],
    um_law: ['USER_MANAGER', 'LAW'],
    circ_main: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
    fso: ['FULFILLMENT_SERVICES_OPERATOR', 'INSTITUTION'],
  }));
});
afterAll(() => app.close());

test('R6.3 a User Manager adds a statistic with category type, category, note and owner', async () => {
  const res = await app.gql(ADD, { u: await patron(), in: { ...lawDept(libraryId('LAW')), note: ' second major ' } }, tokens.um);
  expect(res.data.addStatistic).toMatchObject({
    categoryType: 'FACULTY_DEPT', category: 'DEPT_LAW', note: 'second major', external: false, owner: { institution: false, library: { code: 'LAW' } },
  });
});

test('R6.3 a category that is not a configured statistic category is BAD_USER_INPUT naming input.category, nothing written', async () => {
  const userId = await patron();
  const before = await state(userId);
  const res = await app.gql(ADD, { u: userId, in: { categoryType: 'FACULTY_DEPT', category: 'DEPT_ALCHEMY' } }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.category' });
  expect(await state(userId)).toEqual(before);
});

test('R6.3 a blank category type is BAD_USER_INPUT naming input.categoryType', async () => {
  const res = await app.gql(ADD, { u: await patron(), in: { categoryType: ' ', category: 'DEPT_LAW' } }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.categoryType' });
});

test('R1.1 a contact record holds no statistics: BAD_USER_INPUT naming userId', async () => {
  const contactId = await createPerson(db(), inst, { recordType: 'CONTACT', withPassword: false });
  const before = await state(contactId);
  const res = await app.gql(ADD, { u: contactId, in: lawDept() }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
  expect(await state(contactId)).toEqual(before);
});

test('R5.3 an operator scoped to the Law library cannot add a statistic owned by the Main library (FORBIDDEN, nothing written)', async () => {
  const userId = await patron();
  const before = await state(userId);
  const res = await app.gql(ADD, { u: userId, in: lawDept(libraryId('MAIN')) }, tokens.um_law);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await state(userId)).toEqual(before);
});

test('R5.3 a library-scoped operator may not create an institution-owned statistic: the institution owner is outside a library scope', async () => {
  const userId = await patron();
  const before = await state(userId);
  const res = await app.gql(ADD, { u: userId, in: lawDept() }, tokens.um_law);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await state(userId)).toEqual(before);
});

test('R5.2 R5.3 an operator scoped to the Law library cannot update a statistic owned by the Main library: it is NOT_FOUND and unchanged', async () => {
  const userId = await patron();
  const statisticId = await givenStatistic(userId, 'MAIN');
  const before = await state(userId);
  const res = await app.gql(UPDATE, { id: statisticId, in: lawDept(libraryId('LAW')) }, tokens.um_law);
  expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  expect(await state(userId)).toEqual(before);
});

test('R5.2 R5.3 an operator scoped to the Law library cannot remove a statistic owned by the Main library: it is NOT_FOUND and kept', async () => {
  const userId = await patron();
  const statisticId = await givenStatistic(userId, 'MAIN');
  const before = await state(userId);
  const res = await app.gql(REMOVE, { id: statisticId }, tokens.um_law);
  expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  expect(await state(userId)).toEqual(before);
});

test('R5.3 an operator scoped to the Law library manages statistics owned by the Law library', async () => {
  const userId = await patron();
  const added = await app.gql(ADD, { u: userId, in: lawDept(libraryId('LAW')) }, tokens.um_law);
  const updated = await app.gql(UPDATE, { id: added.data.addStatistic.id, in: { ...lawDept(libraryId('LAW')), category: 'DEPT_HISTORY' } }, tokens.um_law);
  expect(updated.data.updateStatistic.category).toBe('DEPT_HISTORY');
  expect((await app.gql(REMOVE, { id: added.data.addStatistic.id }, tokens.um_law)).data.removeStatistic).toEqual({ id: userId, statistics: [] });
});

test('R5.3 an institution-scoped operator adds, updates and removes statistics of any owner', async () => {
  const userId = await patron();
  const mainStatistic = await givenStatistic(userId, 'MAIN');
  const updated = await app.gql(UPDATE, { id: mainStatistic, in: lawDept() }, tokens.um);
  expect(updated.data.updateStatistic.owner).toEqual({ institution: true, library: null });
  expect((await app.gql(REMOVE, { id: mainStatistic }, tokens.um)).data.removeStatistic.statistics).toEqual([]);
  expect((await app.gql(ADD, { u: userId, in: lawDept(libraryId('MAIN')) }, tokens.um)).data?.addStatistic.owner.library.code).toBe('MAIN');
});

test('R5 with library independence off a library-scoped operator may add statistics under any owner, and the owner is recorded', async () => {
  const open = await createInstitution(db(), 'OPEN_STATS', { libraryIndependence: false });
  await db().query(`INSERT INTO code_value (institution_id, kind, code, description) VALUES ($1, 'STATISTIC_CATEGORY', 'DEPT_LAW', 'Law')`, [open.id]);
  await createPerson(db(), open, { primaryIdentifier: 'open_law_s', roles: [['USER_MANAGER', 'LAW']] });
  const token = await app.login('open_law_s', PASSWORD);
  const userId = await createPerson(db(), open, { recordType: 'PUBLIC', withPassword: false });
  const res = await app.gql(ADD, { u: userId, in: lawDept(open.libraries.MAIN.id) }, token);
  expect(res.data.addStatistic.owner).toEqual({ institution: false, library: { code: 'MAIN' } });
});

test('R3.3 staff may add an internal statistic to an external user', async () => {
  const res = await app.gql(ADD, { u: await patron({ accountType: 'EXTERNAL' }), in: lawDept() }, tokens.um);
  expect(res.data.addStatistic.external).toBe(false);
});

test('R3.3 an external statistic cannot be edited (BAD_USER_INPUT naming id)', async () => {
  const userId = await patron({ accountType: 'EXTERNAL' });
  const statisticId = await givenStatistic(userId, null, { external: true });
  const before = await state(userId);
  const res = await app.gql(UPDATE, { id: statisticId, in: lawDept() }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  expect(await state(userId)).toEqual(before);
});

test('R3.3 an external statistic cannot be removed (BAD_USER_INPUT naming id)', async () => {
  const userId = await patron({ accountType: 'EXTERNAL' });
  const statisticId = await givenStatistic(userId, null, { external: true });
  const before = await state(userId);
  const res = await app.gql(REMOVE, { id: statisticId }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  expect(await state(userId)).toEqual(before);
});

test('R9.1 statistics are not recorded in history; R11.3 STATISTIC_ADDED, _UPDATED and _REMOVED events carry the statistic and its owner', async () => {
  const userId = await patron();
  const added = await app.gql(ADD, { u: userId, in: lawDept(libraryId('LAW')) }, tokens.um);
  const statisticId = added.data.addStatistic.id;
  await app.gql(UPDATE, { id: statisticId, in: { ...lawDept(libraryId('LAW')), note: 'minor' } }, tokens.um);
  await app.gql(REMOVE, { id: statisticId }, tokens.um);
  expect(await db().query(`SELECT id FROM history_entry WHERE user_id = $1`, [userId])).toEqual([]);
  const events = await db().query(
    `SELECT event_type, owner_library_id, payload->>'statisticId' AS statistic_id, payload->'changes' AS changes FROM event_outbox WHERE aggregate_id = $1 ORDER BY id`,
    [userId],
  );
  const owner = libraryId('LAW');
  expect(events).toEqual([
    { event_type: 'STATISTIC_ADDED', owner_library_id: owner, statistic_id: statisticId, changes: [{ field: 'statistics', oldValue: null, newValue: 'FACULTY_DEPT/DEPT_LAW' }] },
    { event_type: 'STATISTIC_UPDATED', owner_library_id: owner, statistic_id: statisticId,
      changes: [{ field: 'statistics', oldValue: 'FACULTY_DEPT/DEPT_LAW', newValue: 'FACULTY_DEPT/DEPT_LAW: minor' }] },
    { event_type: 'STATISTIC_REMOVED', owner_library_id: owner, statistic_id: statisticId,
      changes: [{ field: 'statistics', oldValue: 'FACULTY_DEPT/DEPT_LAW: minor', newValue: null }] },
  ]);
});

test('R4.2 a circulation desk operator may add a statistic to a patron but not to a staff user', async () => {
  const ok = await app.gql(ADD, { u: await patron(), in: lawDept(libraryId('MAIN')) }, tokens.circ_main);
  expect(ok.data?.addStatistic.category).toBe('DEPT_LAW');
  const staffId = await createPerson(db(), inst, { recordType: 'STAFF', withPassword: false });
  const before = await state(staffId);
  const refused = await app.gql(ADD, { u: staffId, in: lawDept(libraryId('MAIN')) }, tokens.circ_main);
  expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await state(staffId)).toEqual(before);
});

test('R4.5 a protected account gets no statistics, whoever asks', async () => {
  const userId = await createPerson(db(), inst, { primaryIdentifier: 'leganto_guest', withPassword: false });
  const before = await state(userId);
  const res = await app.gql(ADD, { u: userId, in: lawDept() }, tokens.um);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await state(userId)).toEqual(before);
});

test('R4.2 a Fulfillment Services Operator may not add, update or remove statistics (FORBIDDEN)', async () => {
  const userId = await patron();
  const statisticId = await givenStatistic(userId, null);
  const before = await state(userId);
  const results = [
    await app.gql(ADD, { u: userId, in: lawDept() }, tokens.fso),
    await app.gql(UPDATE, { id: statisticId, in: lawDept() }, tokens.fso),
    await app.gql(REMOVE, { id: statisticId }, tokens.fso),
  ];
  expect(results.map((r) => r.errors?.[0].extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
  expect(await state(userId)).toEqual(before);
});
