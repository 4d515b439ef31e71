import { createInstitution, createPatron, createPerson, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { configureFines, FINE_FIELDS, fineEvents, fineHistory, fineState, ledgerMismatches } from './fine-fixtures';

let app: TestApp;
let inst: InstitutionFixture;
let tokens: Record<string, string>;

const ADD = `mutation($u: ID!, $in: AddFineInput!) { addFine(userId: $u, input: $in) { ${FINE_FIELDS} } }`;
const db = () => app.db.dataSource;
const patron = () => createPatron(db(), inst);
const libraryId = (code: 'MAIN' | 'LAW') => inst.libraries[code].id;
const add = (userId: string, input: Record<string, unknown>, token = tokens.um) => app.gql(ADD, { u: userId, in: input }, token);

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db(), 'TEST', { debtLimit: '50.00' });
  await configureFines(db(), inst);
  tokens = await loginOperators(app, inst, {
    um: ['USER_MANAGER', 'INSTITUTION'],
    circ_main: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
    fso: ['FULFILLMENT_SERVICES_OPERATOR', 'INSTITUTION'],
  });
});
afterAll(() => app.close());
afterEach(async () => expect(await ledgerMismatches(db(), inst)).toEqual([]));

test('R7.2 a User Manager charges a fine with its type, library owner, amount, comment and item barcode: ACTIVE, owing the whole amount', async () => {
  const res = await add(await patron(), { type: 'OVERDUEFINE', ownerLibraryId: libraryId('LAW'), amount: '12.5', comment: ' Late ', itemBarcode: 'I-0042' });
  expect(res.errors).toBeUndefined();
  expect(res.data.addFine).toMatchObject({
    type: 'OVERDUEFINE', status: 'ACTIVE', originalAmount: '12.50', remainingAmount: '12.50', vatAmount: '0.00', comment: 'Late', itemBarcode: 'I-0042',
    owner: { institution: false, library: { code: 'LAW' } },
  });
});

test('R7.2 a fine without an owner belongs to the institution', async () => {
  const res = await add(await patron(), { type: 'CARDRENEWAL', amount: '5' });
  expect(res.data.addFine.owner).toEqual({ institution: true, library: null });
});

test('R7.2 VAT is the type\'s rate of the amount, included in it: 7.50% of 100.00 is 7.50 and the fine owes 100.00', async () => {
  const res = await add(await patron(), { type: 'LOSTITEMREPLACEMENTFEE', amount: '100.00' });
  expect(res.data.addFine).toMatchObject({ originalAmount: '100.00', remainingAmount: '100.00', vatAmount: '7.50' });
});

test('R7.2 VAT is rounded to the cent, half away from zero: 7.50% of 25.99 is 1.95', async () => {
  const res = await add(await patron(), { type: 'LOSTITEMREPLACEMENTFEE', amount: '25.99' });
  expect(res.data.addFine.vatAmount).toBe('1.95');
});

test('R7.7 the new fine\'s ledger is one CREATE action for the whole amount, by the operator', async () => {
  const res = await app.gql(`mutation($u: ID!) { addFine(userId: $u, input: { type: "OVERDUEFINE", amount: "3.25", comment: "late" }) {
    user { id } actions { type amount reason paymentMethod comment createdBy createdAt } } }`, { u: await patron() }, tokens.um);
  expect(res.data.addFine.actions).toEqual([
    { type: 'CREATE', amount: '3.25', reason: null, paymentMethod: null, comment: 'late', createdBy: 'um', createdAt: expect.any(String) },
  ]);
});

test('R7.2 the fine names its patron', async () => {
  const userId = await patron();
  const res = await app.gql(`mutation($u: ID!) { addFine(userId: $u, input: { type: "OVERDUEFINE", amount: "1" }) { user { id } } }`, { u: userId }, tokens.um);
  expect(res.data.addFine.user).toEqual({ id: userId });
});

test('R7.6 the new fine raises the patron\'s active balance', async () => {
  const userId = await patron();
  await add(userId, { type: 'OVERDUEFINE', amount: '4.00' });
  await add(userId, { type: 'DAMAGEDITEMFINE', amount: '6.10', ownerLibraryId: libraryId('MAIN') });
  const res = await app.gql(`query($id: ID!) { user(id: $id) { fineSummary { activeBalance openCount } } }`, { id: userId }, tokens.um);
  expect(res.data.user.fineSummary).toEqual({ activeBalance: '10.10', openCount: 2 });
});

test('R7.3 a credit without a comment is BAD_USER_INPUT naming input.comment, and nothing is written', async () => {
  const userId = await patron();
  const before = await fineState(db(), inst);
  const res = await add(userId, { type: 'CREDIT', amount: '10.00', comment: '   ' });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.comment' });
  expect(res.errors?.[0].message).toMatch(/credit needs a comment/);
  expect(await fineState(db(), inst)).toEqual(before);
});

test('R7.3 a credit is entered positive, stored and shown negative, and lowers the active balance', async () => {
  const userId = await patron();
  await add(userId, { type: 'OVERDUEFINE', amount: '15.00' });
  const res = await add(userId, { type: 'CREDIT', amount: '10.00', comment: 'Refund: lost item found' });
  expect(res.data.addFine).toMatchObject({ type: 'CREDIT', originalAmount: '-10.00', remainingAmount: '-10.00', status: 'ACTIVE' });
  const [row] = await db().query(`SELECT original_amount::text, remaining_amount::text FROM fine_fee WHERE id = $1`, [res.data.addFine.id]);
  expect(row).toEqual({ original_amount: '-10.00', remaining_amount: '-10.00' });
  const summary = await app.gql(`query($id: ID!) { user(id: $id) { fineSummary { activeBalance } } }`, { id: userId }, tokens.um);
  expect(summary.data.user.fineSummary.activeBalance).toBe('5.00');
});

test('R7.2 a negative amount is BAD_USER_INPUT naming input.amount, and nothing is written', async () => {
  const userId = await patron();
  const before = await fineState(db(), inst);
  const res = await add(userId, { type: 'OVERDUEFINE', amount: '-5.00' });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.amount' });
  expect(await fineState(db(), inst)).toEqual(before);
});

test('R7.2 a zero amount is BAD_USER_INPUT naming input.amount', async () => {
  const res = await add(await patron(), { type: 'OVERDUEFINE', amount: '0.00' });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.amount' });
});

test('R7.2 an amount with more than two decimals never reaches the service: the Decimal scalar refuses it', async () => {
  const before = await fineState(db(), inst);
  const res = await add(await patron(), { type: 'OVERDUEFINE', amount: '1.005' });
  expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  expect(await fineState(db(), inst)).toEqual(before);
});

test('R7.2 a library owner on a type without library scope is BAD_USER_INPUT naming input.ownerLibraryId, and nothing is written', async () => {
  const userId = await patron();
  const before = await fineState(db(), inst);
  const res = await add(userId, { type: 'CARDRENEWAL', amount: '5.00', ownerLibraryId: libraryId('MAIN') });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.ownerLibraryId' });
  expect(res.errors?.[0].message).toMatch(/CARDRENEWAL does not allow a library owner/);
  expect(await fineState(db(), inst)).toEqual(before);
});

test('R5.1 an owner library of another institution is BAD_USER_INPUT naming input.ownerLibraryId', async () => {
  const other = await createInstitution(db(), 'OTHER_FINES');
  const res = await add(await patron(), { type: 'OVERDUEFINE', amount: '5.00', ownerLibraryId: other.libraries.MAIN.id });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.ownerLibraryId' });
});

test('R7.2 a type that is not configured is BAD_USER_INPUT naming input.type', async () => {
  const res = await add(await patron(), { type: 'PARKINGFINE', amount: '5.00' });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.type' });
});

test('R7.1 a fine for a user without the Patron role is BAD_USER_INPUT naming userId, and nothing is written', async () => {
  const staffOnly = await createPerson(db(), inst, { recordType: 'STAFF', roles: [['CATALOGER', 'INSTITUTION']], withPassword: false });
  const before = await fineState(db(), inst);
  const res = await add(staffOnly, { type: 'OVERDUEFINE', amount: '5.00' });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
  expect(res.errors?.[0].message).toMatch(/Patron role/);
  expect(await fineState(db(), inst)).toEqual(before);
});

test('R7.1 a Patron role that is switched off does not count', async () => {
  const userId = await patron();
  await db().query(`UPDATE role_assignment SET is_active = false WHERE user_id = $1`, [userId]);
  const res = await add(userId, { type: 'OVERDUEFINE', amount: '5.00' });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
});

test('R7.1 a contact never has fines', async () => {
  const contact = await createPerson(db(), inst, { recordType: 'CONTACT', withPassword: false });
  const res = await add(contact, { type: 'OVERDUEFINE', amount: '5.00' });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
});

test('R7.1 a staff member who also holds the Patron role may be fined', async () => {
  const staffPatron = await createPerson(db(), inst, { recordType: 'STAFF', roles: [['PATRON', 'INSTITUTION']], withPassword: false });
  const res = await add(staffPatron, { type: 'OVERDUEFINE', amount: '5.00' });
  expect(res.data?.addFine.remainingAmount).toBe('5.00');
});

test('R5.3 an operator scoped to the Main library cannot add a fine owned by the Law library: FORBIDDEN and nothing is written', async () => {
  const userId = await patron();
  const before = await fineState(db(), inst);
  const res = await add(userId, { type: 'OVERDUEFINE', amount: '5.00', ownerLibraryId: libraryId('LAW') }, tokens.circ_main);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await fineState(db(), inst)).toEqual(before);
});

test('R5.3 an operator scoped to the Main library cannot add an institution-owned fine: the institution is outside a library scope', async () => {
  const res = await add(await patron(), { type: 'CARDRENEWAL', amount: '5.00' }, tokens.circ_main);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
});

test('R5.3 an operator scoped to the Main library adds a fine owned by the Main library', async () => {
  const res = await add(await patron(), { type: 'OVERDUEFINE', amount: '5.00', ownerLibraryId: libraryId('MAIN') }, tokens.circ_main);
  expect(res.data?.addFine.owner).toEqual({ institution: false, library: { code: 'MAIN' } });
});

test('R4.2 a Fulfillment Services Operator may not add a fine: FORBIDDEN and nothing is written', async () => {
  const userId = await patron();
  const before = await fineState(db(), inst);
  const res = await add(userId, { type: 'OVERDUEFINE', amount: '5.00' }, tokens.fso);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await fineState(db(), inst)).toEqual(before);
});

test('issue 5 item 9: adding a fine writes a history entry and one FINE_ADDED event carrying the owner', async () => {
  const userId = await patron();
  const res = await add(userId, { type: 'OVERDUEFINE', amount: '12.50', ownerLibraryId: libraryId('MAIN') });
  const fineId = res.data.addFine.id;
  expect(await fineHistory(db(), userId)).toEqual([
    { field: 'fines', oldValue: null, newValue: 'OVERDUEFINE 12.50 ACTIVE', ownerLibraryId: libraryId('MAIN'), changedBy: 'um' },
  ]);
  expect(await fineEvents(db(), fineId)).toEqual([{
    eventType: 'FINE_ADDED', aggregateType: 'FINE', aggregateId: fineId, ownerLibraryId: libraryId('MAIN'), actor: 'um',
    payload: expect.objectContaining({ userId, fineId, type: 'OVERDUEFINE', amount: '12.50', ownerLibraryId: libraryId('MAIN') }),
  }]);
});

test('R7.2 the configuration: fine types with library-owner flag, VAT rate and credit flag; waive reasons; payment methods; settings', async () => {
  const res = await app.gql(`{
    fineFeeTypes { code name allowsLibraryOwner vatRate credit }
    waiveReasons { code description }
    paymentMethods
    fineSettings { debtLimit waivingFinesFeesLimit }
  }`, {}, tokens.fso);
  expect(res.data.fineFeeTypes).toContainEqual({ code: 'LOSTITEMREPLACEMENTFEE', name: 'Lost item replacement fee', allowsLibraryOwner: true, vatRate: '7.50', credit: false });
  expect(res.data.fineFeeTypes).toContainEqual({ code: 'CREDIT', name: 'Credit', allowsLibraryOwner: false, vatRate: '0.00', credit: true });
  expect(res.data.fineFeeTypes.map((t: { code: string }) => t.code)).toEqual(
    ['CARDRENEWAL', 'CREDIT', 'DAMAGEDITEMFINE', 'LOSTITEMPROCESSFEE', 'LOSTITEMREPLACEMENTFEE', 'OVERDUEFINE']);
  expect(res.data.waiveReasons).toEqual([{ code: 'GOODWILL', description: 'Goodwill gesture' }, { code: 'LIBRARY_ERROR', description: 'Library error' }]);
  expect(res.data.paymentMethods).toEqual(['CASH', 'CREDIT_CARD', 'ONLINE']);
  expect(res.data.fineSettings).toEqual({ debtLimit: '50.00', waivingFinesFeesLimit: 100 });
});

test('the configuration of another institution is never shown', async () => {
  const other = await createInstitution(db(), 'OTHER_CONFIG');
  const [token] = Object.values(await loginOperators(app, other, { other_um: ['USER_MANAGER', 'INSTITUTION'] }));
  const res = await app.gql(`{ fineFeeTypes { code } waiveReasons { code } }`, {}, token);
  expect(res.data).toEqual({ fineFeeTypes: [], waiveReasons: [] });
});

test('the configuration needs a signed-in operator', async () => {
  const res = await app.gql(`{ fineFeeTypes { code } }`);
  expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
});

test('R4.5 nobody charges a fine to a protected account, even one holding the Patron role', async () => {
  const vendor = await createPerson(db(), inst, { primaryIdentifier: 'exl_fines', recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']], withPassword: false });
  const before = await fineState(db(), inst);
  const res = await add(vendor, { type: 'OVERDUEFINE', amount: '5.00' });
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(res.errors?.[0].message).toMatch(/protected account/);
  expect(await fineState(db(), inst)).toEqual(before);
});
