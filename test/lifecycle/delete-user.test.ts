import type { DataSource } from 'typeorm';
import { configureFines, givenFine } from '../fines/fine-fixtures';
import { createInstitution, createPatron, createPerson, InstitutionFixture, loginOperators, PersonSpec } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';
import { givenContacts, givenLoan, givenNote, givenStatistic, lifecycleFingerprint } from './lifecycle-fixtures';

/**
 * Specification of `deleteUser` (issue 10 item 4): R10.1 (who), R10.2 (what
 * stands in the way, every reason), R10.3 (everything goes, history stays),
 * R4.5 and the subset rule (on whom), R9/R11.3 (recorded).
 */

let app: TestApp;
let inst: InstitutionFixture;
let other: InstitutionFixture;
let tokens: Record<string, string>;
const db = (): DataSource => app.db.dataSource;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  other = await createInstitution(db(), 'OTHER');
  await configureFines(db(), inst);
  tokens = await loginOperators(app, inst, {
    um_delete: ['USER_MANAGER', 'INSTITUTION'],
    ua_delete: ['USER_ADMINISTRATOR', 'INSTITUTION'],
    um_main: ['USER_MANAGER', 'MAIN'],
    cdm_delete: ['CIRCULATION_DESK_MANAGER', 'MAIN_DESK'],
    cdo_delete: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
    fso_delete: ['FULFILLMENT_SERVICES_OPERATOR', 'MAIN'],
  });
});
afterAll(() => app.close());

const DELETE = `mutation($id: ID!) { deleteUser(id: $id) { deletedUserId } }`;
const HISTORY = `query($id: ID!) { userHistory(userId: $id) { totalCount edges { node { field oldValue newValue changedBy } } } }`;

const deleteUser = (id: string, token = tokens.um_delete): Promise<GraphQLResponse> => app.gql(DELETE, { id }, token);
const patron = (spec: PersonSpec = {}) => createPatron(db(), inst, spec);
const exists = async (id: string) => (await db().query(`SELECT 1 FROM app_user WHERE id = $1`, [id])).length === 1;

/** The request is refused with `code`, and nothing in the database changed. */
async function refused(id: string, token: string | undefined, code: string) {
  const before = await lifecycleFingerprint(db());
  const res = await app.gql(DELETE, { id }, token);
  expect(res.errors?.[0].extensions?.code).toBe(code);
  expect(res.data?.deleteUser ?? null).toBeNull();
  expect(await lifecycleFingerprint(db())).toBe(before);
  return res.errors![0];
}

test('R10.1 a User Manager deletes a patron: the row is gone', async () => {
  const id = await patron();
  const res = await deleteUser(id);
  expect(res.errors).toBeUndefined();
  expect(res.data.deleteUser).toEqual({ deletedUserId: id });
  expect(await exists(id)).toBe(false);
});

test('R10.1 a User Administrator deletes a patron', async () => {
  const id = await patron();
  expect((await deleteUser(id, tokens.ua_delete)).errors).toBeUndefined();
  expect(await exists(id)).toBe(false);
});

test('R10.2 refuses to delete a user with a balance due and an open loan, listing both reasons', async () => {
  const id = await patron();
  await givenFine(db(), inst, id, '12.50');
  await givenFine(db(), inst, id, '2.00', { status: 'IN_DISPUTE' });
  await givenLoan(db(), inst, id);
  const error = await refused(id, tokens.um_delete, 'CONFLICT');
  expect(error.extensions!.reasons).toEqual([
    { code: 'BALANCE_DUE', message: expect.stringContaining('14.50') },
    { code: 'OPEN_LOANS', message: expect.stringContaining('1 loan') },
  ]);
  expect(await exists(id)).toBe(true);
});

test('R10.2 closed and transferred fines and returned loans do not stand in the way', async () => {
  const id = await patron();
  await givenFine(db(), inst, id, '5.00', { status: 'CLOSED' });
  await givenFine(db(), inst, id, '7.00', { status: 'TRANSFERRED' });
  await givenLoan(db(), inst, id, { returned: true });
  expect((await deleteUser(id)).errors).toBeUndefined();
  expect(await exists(id)).toBe(false);
});

test('R10.2 a library-scoped operator is refused for a fine owned by a library it cannot see', async () => {
  const id = await patron();
  await givenFine(db(), inst, id, '3.00', { owner: 'LAW' });
  // The MAIN-scoped operator sees no fine at all (R5.2) ...
  const seen = await app.gql(`query($id: ID!) { user(id: $id) { fineSummary { activeBalance openCount } } }`, { id }, tokens.um_main);
  expect(seen.data.user.fineSummary).toMatchObject({ activeBalance: '0.00', openCount: 0 });
  // ... but the balance is the user's, not the operator's view of it.
  const error = await refused(id, tokens.um_main, 'CONFLICT');
  expect(error.extensions!.reasons).toEqual([{ code: 'BALANCE_DUE', message: expect.stringContaining('3.00') }]);
});

test('R10.2 waiving the fines, then deleting, is a supported path (end to end over GraphQL)', async () => {
  const id = await patron();
  const fines = [await givenFine(db(), inst, id, '4.00'), await givenFine(db(), inst, id, '6.00', { owner: null })];
  expect((await deleteUser(id)).errors?.[0].extensions?.code).toBe('CONFLICT');
  const waived = await app.gql(`mutation($ids: [ID!]!) { waiveFines(input: { fineIds: $ids, reason: "GOODWILL" }) { count } }`, { ids: fines }, tokens.um_delete);
  expect(waived.errors).toBeUndefined();
  expect(waived.data.waiveFines.count).toBe(2);
  const res = await deleteUser(id);
  expect(res.errors).toBeUndefined();
  expect(await exists(id)).toBe(false);
});

test('R10.3 deleting removes the user and its statistics, identifiers, contacts, notes, roles and fines', async () => {
  const id = await patron({ identifiers: [['BARCODE', 'DEL-0001']] });
  await givenStatistic(db(), inst, id);
  await givenContacts(db(), inst, id, 'leaving@example.edu');
  await givenNote(db(), inst, id, 'a note');
  await givenFine(db(), inst, id, '1.00', { status: 'CLOSED' });
  expect((await deleteUser(id)).errors).toBeUndefined();
  const tables = ['user_statistic', 'user_identifier', 'user_email', 'user_address', 'user_phone', 'user_note', 'role_assignment', 'fine_fee', 'loan'];
  for (const table of tables) expect({ table, rows: (await db().query(`SELECT id FROM ${table} WHERE user_id = $1`, [id])).length }).toEqual({ table, rows: 0 });
});

test('R10.1 contacts can be deleted too', async () => {
  const id = await createPerson(db(), inst, { recordType: 'CONTACT', withPassword: false });
  expect((await deleteUser(id)).errors).toBeUndefined();
  expect(await exists(id)).toBe(false);
});

test('R9 the deletion is recorded: its history stays readable by id after the user is gone, with a USER_DELETED event', async () => {
  const id = await patron({ primaryIdentifier: 'gone_soon' });
  await app.gql(`mutation($id: ID!) { updateUser(id: $id, input: { title: "Dr" }) { id } }`, { id }, tokens.um_delete);
  expect((await deleteUser(id)).errors).toBeUndefined();
  const history = await app.gql(HISTORY, { id }, tokens.um_delete);
  expect(history.errors).toBeUndefined();
  expect(history.data.userHistory.edges.map((e: any) => e.node)).toEqual([
    { field: 'record', oldValue: null, newValue: 'deleted', changedBy: 'um_delete' },
    { field: 'title', oldValue: null, newValue: 'Dr', changedBy: 'um_delete' },
  ]);
  const events = await db().query(`SELECT event_type, actor, payload FROM event_outbox WHERE aggregate_id = $1 ORDER BY id DESC LIMIT 1`, [id]);
  expect(events).toEqual([{ event_type: 'USER_DELETED', actor: 'um_delete', payload: expect.objectContaining({ primaryIdentifier: 'gone_soon' }) }]);
});

test('R9 the sponsor of a deleted proxy gets the lost link in its history', async () => {
  const sponsor = await patron();
  const proxy = await patron({ primaryIdentifier: 'proxy_deleted' });
  const linked = await app.gql(`mutation($p: ID!, $s: ID!) { addProxy(proxyUserId: $p, sponsorUserId: $s) { id } }`, { p: proxy, s: sponsor }, tokens.um_delete);
  expect(linked.errors).toBeUndefined();
  expect((await deleteUser(proxy)).errors).toBeUndefined();
  const history = await app.gql(HISTORY, { id: sponsor }, tokens.um_delete);
  expect(history.data.userHistory.edges[0].node).toEqual({ field: 'proxies', oldValue: 'proxy_deleted', newValue: null, changedBy: 'um_delete' });
});

test('R4.5 deleting a protected account is FORBIDDEN', async () => {
  const id = await createPerson(db(), inst, { primaryIdentifier: 'exl_impl', roles: [['PATRON', 'INSTITUTION']] });
  await refused(id, tokens.ua_delete, 'FORBIDDEN');
});

test('R10.1 circulation desk and fulfillment operators may not delete', async () => {
  const id = await patron();
  for (const op of ['cdm_delete', 'cdo_delete', 'fso_delete']) await refused(id, tokens[op], 'FORBIDDEN');
});

test('R10.1 an unauthenticated client may not delete', async () => {
  await refused(await patron(), undefined, 'UNAUTHENTICATED');
});

test('subset rule: nobody deletes a user holding roles they could not grant', async () => {
  const id = await createPerson(db(), inst, { roles: [['CATALOGER', 'INSTITUTION']] });
  const error = await refused(id, tokens.um_delete, 'FORBIDDEN');
  expect(error.message).toMatch(/CATALOGER/);
});

test('subset rule: nobody deletes themselves', async () => {
  const [self] = await db().query(`SELECT id FROM app_user WHERE primary_identifier = 'ua_delete'`);
  await refused(self.id, tokens.ua_delete, 'FORBIDDEN');
});

test('another institution\'s user is NOT_FOUND', async () => {
  await refused(await createPatron(db(), other), tokens.ua_delete, 'NOT_FOUND');
});

test('a forged id is BAD_USER_INPUT naming the argument', async () => {
  const error = await refused('1 OR 1=1', tokens.ua_delete, 'BAD_USER_INPUT');
  expect(error.extensions!.field).toBe('id');
});

test('userHistory with a forged id is BAD_USER_INPUT naming userId', async () => {
  const res = await app.gql(HISTORY, { id: "x' OR 1=1" }, tokens.um_delete);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
});

test('userHistory needs user.read: an unauthenticated client is refused', async () => {
  const res = await app.gql(HISTORY, { id: await patron() });
  expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
});
