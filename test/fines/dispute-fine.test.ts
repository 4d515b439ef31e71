import { createInstitution, createPatron, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { configureFines, FINE_FIELDS, fineEvents, fineHistory, fineRow, fineState, givenFine, GivenFine, ledgerMismatches } from './fine-fixtures';

let app: TestApp;
let inst: InstitutionFixture;
let tokens: Record<string, string>;

const DISPUTE = `mutation($id: ID!, $c: String!) { disputeFine(id: $id, comment: $c) { ${FINE_FIELDS} } }`;
const RESTORE = `mutation($id: ID!, $c: String) { restoreFine(id: $id, comment: $c) { ${FINE_FIELDS} } }`;
const SUMMARY = `query($u: ID!) { user(id: $u) { fineSummary { activeBalance disputedBalance openCount } } }`;
const db = () => app.db.dataSource;
const libraryId = (code: 'MAIN' | 'LAW') => inst.libraries[code].id;
const fine = async (amount: string, spec: GivenFine = {}, userId?: string) => givenFine(db(), inst, userId ?? (await createPatron(db(), inst)), amount, spec);
const dispute = (id: string, comment = 'Returned on time', token = tokens.um) => app.gql(DISPUTE, { id, c: comment }, token);
const restore = (id: string, comment: string | null = null, token = tokens.um) => app.gql(RESTORE, { id, c: comment }, token);
const summary = async (userId: string) => (await app.gql(SUMMARY, { u: userId }, tokens.um)).data.user.fineSummary;
const row = (id: string) => fineRow(db(), id);

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await configureFines(db(), inst);
  tokens = await loginOperators(app, inst, {
    um: ['USER_MANAGER', 'INSTITUTION'],
    circ_main: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
    fso: ['FULFILLMENT_SERVICES_OPERATOR', 'INSTITUTION'],
  });
});
afterAll(() => app.close());
afterEach(async () => expect(await ledgerMismatches(db(), inst)).toEqual([]));

test('R7.5 a dispute moves the fine to IN_DISPUTE and its amount from the active to the disputed balance', async () => {
  const userId = await createPatron(db(), inst);
  const id = await fine('20.00', {}, userId);
  await fine('80.00', {}, userId);
  expect(await summary(userId)).toEqual({ activeBalance: '100.00', disputedBalance: '0.00', openCount: 2 });
  const res = await dispute(id);
  expect(res.data.disputeFine).toMatchObject({ id, status: 'IN_DISPUTE', remainingAmount: '20.00' });
  expect(await summary(userId)).toEqual({ activeBalance: '80.00', disputedBalance: '20.00', openCount: 2 });
});

test('R7.7 a dispute is a DISPUTE action of 0.00 with its comment', async () => {
  const id = await fine('20.00');
  await dispute(id, '  Patron says it was returned  ');
  const actions = await db().query(`SELECT action_type, amount::text, comment, created_by FROM fine_fee_action WHERE fine_id = $1 ORDER BY created_at, action_type <> 'CREATE'`, [id]);
  expect(actions).toEqual([
    { action_type: 'CREATE', amount: '20.00', comment: null, created_by: 'test' },
    { action_type: 'DISPUTE', amount: '0.00', comment: 'Patron says it was returned', created_by: 'um' },
  ]);
});

test('R7.5 a dispute needs a comment: a blank one is BAD_USER_INPUT naming comment, and nothing changes', async () => {
  const id = await fine('20.00');
  const before = await fineState(db(), inst);
  const res = await dispute(id, '   ');
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'comment' });
  expect(await fineState(db(), inst)).toEqual(before);
});

test('R7.8 a closed fine cannot be disputed: BAD_USER_INPUT naming the fine, nothing changes', async () => {
  const id = await fine('5.00');
  await app.gql(`mutation($id: ID!) { payFine(id: $id, input: { method: CASH }) { status } }`, { id }, tokens.um);
  const before = await fineState(db(), inst);
  const res = await dispute(id);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id', fineId: id });
  expect(res.errors?.[0].message).toMatch(new RegExp(`^Fine ${id} is CLOSED`));
  expect(await fineState(db(), inst)).toEqual(before);
});

test('R7.3 a credit cannot be disputed', async () => {
  const id = await fine('-5.00', { owner: null });
  const res = await dispute(id);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id', fineId: id });
  expect(await row(id)).toEqual({ remaining: '-5.00', status: 'ACTIVE' });
});

test('R7.5 a fine already IN_DISPUTE cannot be disputed again', async () => {
  const id = await fine('5.00', { status: 'IN_DISPUTE' });
  const res = await dispute(id);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id', fineId: id });
  expect(res.errors?.[0].message).toMatch(/already IN_DISPUTE/);
});

test('a fine TRANSFERRED to the bursar cannot be disputed here', async () => {
  const id = await fine('5.00', { status: 'TRANSFERRED' });
  expect((await dispute(id)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fineId: id });
});

test('R7.5 restoring an ACTIVE fine is BAD_USER_INPUT naming the fine, and nothing changes', async () => {
  const id = await fine('20.00');
  const before = await fineState(db(), inst);
  const res = await restore(id);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id', fineId: id });
  expect(res.errors?.[0].message).toBe(`Fine ${id} is ACTIVE: only a fine IN_DISPUTE can be restored (R7.5)`);
  expect(await fineState(db(), inst)).toEqual(before);
});

test('R7.5 restoring a CLOSED fine is refused', async () => {
  const id = await fine('5.00');
  await app.gql(`mutation($id: ID!) { payFine(id: $id, input: { method: CASH }) { status } }`, { id }, tokens.um);
  expect((await restore(id)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fineId: id });
});

test('R7.5 restoring a disputed fine returns it to ACTIVE with its remaining amount, and to the active balance', async () => {
  const userId = await createPatron(db(), inst);
  const id = await fine('20.00', {}, userId);
  await dispute(id);
  const res = await restore(id, 'Dispute rejected: scanned late');
  expect(res.data.restoreFine).toMatchObject({ id, status: 'ACTIVE', remainingAmount: '20.00' });
  expect(await summary(userId)).toEqual({ activeBalance: '20.00', disputedBalance: '0.00', openCount: 1 });
  const [last] = await db().query(`SELECT action_type, amount::text, comment FROM fine_fee_action WHERE fine_id = $1 AND action_type = 'RESTORE'`, [id]);
  expect(last).toEqual({ action_type: 'RESTORE', amount: '0.00', comment: 'Dispute rejected: scanned late' });
});

test('R7.5 a restored fine can be paid again', async () => {
  const id = await fine('20.00', { status: 'IN_DISPUTE' });
  await restore(id);
  const res = await app.gql(`mutation($id: ID!) { payFine(id: $id, input: { method: CASH, amount: "5" }) { status remainingAmount } }`, { id }, tokens.um);
  expect(res.data.payFine).toEqual({ status: 'ACTIVE', remainingAmount: '15.00' });
});

test('R5.2 R5.3 an operator scoped to the Main library cannot dispute or restore a Law fine: NOT_FOUND and nothing changes', async () => {
  const active = await fine('20.00', { owner: 'LAW' });
  const disputed = await fine('20.00', { owner: 'LAW', status: 'IN_DISPUTE' });
  const before = await fineState(db(), inst);
  expect((await dispute(active, 'x', tokens.circ_main)).errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id', fineId: active });
  expect((await restore(disputed, null, tokens.circ_main)).errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id', fineId: disputed });
  expect(await fineState(db(), inst)).toEqual(before);
});

test('R5.3 an operator scoped to the Main library disputes and restores a Main fine', async () => {
  const id = await fine('20.00', { owner: 'MAIN' });
  expect((await dispute(id, 'x', tokens.circ_main)).data?.disputeFine.status).toBe('IN_DISPUTE');
  expect((await restore(id, null, tokens.circ_main)).data?.restoreFine.status).toBe('ACTIVE');
});

test('R4.2 a Fulfillment Services Operator may neither dispute nor restore: FORBIDDEN and nothing changes', async () => {
  const active = await fine('20.00');
  const disputed = await fine('20.00', { status: 'IN_DISPUTE' });
  const before = await fineState(db(), inst);
  expect((await dispute(active, 'x', tokens.fso)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect((await restore(disputed, null, tokens.fso)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await fineState(db(), inst)).toEqual(before);
});

test('issue 5 item 9: dispute and restore write history entries and FINE_DISPUTED / FINE_RESTORED events under the fine\'s owner', async () => {
  const userId = await createPatron(db(), inst);
  const id = await fine('12.50', { owner: 'LAW' }, userId);
  await dispute(id, 'Returned on time');
  await restore(id);
  expect(await fineHistory(db(), userId)).toEqual([
    { field: 'fines', oldValue: 'OVERDUEFINE 12.50 ACTIVE', newValue: 'OVERDUEFINE 12.50 IN_DISPUTE', ownerLibraryId: libraryId('LAW'), changedBy: 'um' },
    { field: 'fines', oldValue: 'OVERDUEFINE 12.50 IN_DISPUTE', newValue: 'OVERDUEFINE 12.50 ACTIVE', ownerLibraryId: libraryId('LAW'), changedBy: 'um' },
  ]);
  const events = await fineEvents(db(), id);
  expect(events.map((e: { eventType: string; ownerLibraryId: string }) => [e.eventType, e.ownerLibraryId])).toEqual([
    ['FINE_DISPUTED', libraryId('LAW')], ['FINE_RESTORED', libraryId('LAW')],
  ]);
  expect(events[0].payload).toMatchObject({ userId, fineId: id, status: 'IN_DISPUTE', comment: 'Returned on time' });
});

test('R7.2 a dispute moves the status date', async () => {
  const id = await fine('20.00');
  const [{ status_date: before }] = await db().query(`SELECT status_date FROM fine_fee WHERE id = $1`, [id]);
  const res = await dispute(id);
  expect(new Date(res.data.disputeFine.statusDate).getTime()).toBeGreaterThan(before.getTime());
});
