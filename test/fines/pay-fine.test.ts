import { sqlStatementCount } from '../../src/db/sql-logger';
import { createInstitution, createPatron, createPerson, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { configureFines, FINE_FIELDS, fineEvents, fineHistory, fineRow, fineState, GivenFine, givenFine, ledgerMismatches } from './fine-fixtures';

let app: TestApp;
let inst: InstitutionFixture;
let tokens: Record<string, string>;

const PAY = `mutation($id: ID!, $in: PayInput!) { payFine(id: $id, input: $in) { ${FINE_FIELDS} } }`;
const PAY_MANY = `mutation($in: PayFinesInput!) { payFines(input: $in) { id status remainingAmount } }`;
const db = () => app.db.dataSource;
const libraryId = (code: 'MAIN' | 'LAW') => inst.libraries[code].id;
const fine = async (amount: string, spec: GivenFine = {}, userId?: string) => givenFine(db(), inst, userId ?? (await createPatron(db(), inst)), amount, spec);
const pay = (id: string, input: Record<string, unknown>, token = tokens.um) => app.gql(PAY, { id, in: { method: 'CASH', ...input } }, token);
const payMany = (fineIds: string[], token = tokens.um) => app.gql(PAY_MANY, { in: { fineIds, method: 'CREDIT_CARD', comment: 'at the desk' } }, token);
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

test('R7.8 paying 3.00 of 10.00 leaves 7.00 and the fine stays ACTIVE', async () => {
  const id = await fine('10.00');
  const res = await pay(id, { amount: '3.00' });
  expect(res.data.payFine).toMatchObject({ id, status: 'ACTIVE', originalAmount: '10.00', remainingAmount: '7.00' });
});

test('R7.7 a payment is a PAY action with the negative amount, the method and the comment', async () => {
  const id = await fine('10.00');
  await pay(id, { amount: '3.00', method: 'ONLINE', comment: 'paid online' });
  const res = await app.gql(`query($u: ID!) { user(id: $u) { fines { id actions { type amount paymentMethod comment createdBy } } } }`,
    { u: (await db().query(`SELECT user_id FROM fine_fee WHERE id = $1`, [id]))[0].user_id }, tokens.um);
  expect(res.data.user.fines[0].actions).toEqual([
    { type: 'CREATE', amount: '10.00', paymentMethod: null, comment: null, createdBy: 'test' },
    { type: 'PAY', amount: '-3.00', paymentMethod: 'ONLINE', comment: 'paid online', createdBy: 'um' },
  ]);
});

test('R7.8 paying the rest closes the fine: CLOSED with 0.00 left, its status date moved', async () => {
  const id = await fine('10.00');
  await pay(id, { amount: '3.00' });
  const [{ status_date: before }] = await db().query(`SELECT status_date FROM fine_fee WHERE id = $1`, [id]);
  const res = await pay(id, { amount: '7.00' });
  expect(res.data.payFine).toMatchObject({ status: 'CLOSED', remainingAmount: '0.00' });
  expect(new Date(res.data.payFine.statusDate).getTime()).toBeGreaterThan(before.getTime());
});

test('R7.8 a payment without an amount pays the whole remaining balance', async () => {
  const id = await fine('10.00');
  await pay(id, { amount: '2.50' });
  const res = await pay(id, {});
  expect(res.data.payFine).toMatchObject({ status: 'CLOSED', remainingAmount: '0.00' });
});

test('R7.2 money is exact: 0.10 then 0.20 paid on a 0.30 fine leaves exactly 0.00 and closes it', async () => {
  const id = await fine('0.30');
  await pay(id, { amount: '0.10' });
  const res = await pay(id, { amount: '0.20' });
  expect(res.data.payFine).toMatchObject({ status: 'CLOSED', remainingAmount: '0.00' });
});

test('R7.8 paying more than the remaining balance is BAD_USER_INPUT naming the fine, and nothing changes', async () => {
  const id = await fine('10.00');
  await pay(id, { amount: '3.00' });
  const before = await fineState(db(), inst);
  const res = await pay(id, { amount: '7.01' });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.amount', fineId: id });
  expect(res.errors?.[0].message).toBe(`Fine ${id} has 7.00 left: at most that can be paid, not 7.01 (R7.8)`);
  expect(await fineState(db(), inst)).toEqual(before);
});

test('R7.2 a negative or zero payment is BAD_USER_INPUT naming input.amount', async () => {
  const id = await fine('10.00');
  for (const amount of ['-1.00', '0']) {
    const res = await pay(id, { amount });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.amount' });
  }
  expect(await row(id)).toEqual({ remaining: '10.00', status: 'ACTIVE' });
});

test('R7.8 a closed fine accepts no payment: BAD_USER_INPUT naming the fine, nothing changes', async () => {
  const id = await fine('10.00');
  await pay(id, {});
  const before = await fineState(db(), inst);
  const res = await pay(id, { amount: '1.00' });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id', fineId: id });
  expect(res.errors?.[0].message).toMatch(new RegExp(`^Fine ${id} is CLOSED`));
  expect(await fineState(db(), inst)).toEqual(before);
});

test('R7.5 a disputed fine cannot be paid until it is restored', async () => {
  const id = await fine('10.00', { status: 'IN_DISPUTE' });
  const res = await pay(id, {});
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id', fineId: id });
  expect(res.errors?.[0].message).toMatch(/IN_DISPUTE: restore it before paying it/);
  expect(await row(id)).toEqual({ remaining: '10.00', status: 'IN_DISPUTE' });
});

test('R7.3 a credit cannot be paid', async () => {
  const id = await fine('-10.00', { owner: null });
  const res = await pay(id, { amount: '1.00' });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id', fineId: id });
  expect(res.errors?.[0].message).toMatch(/is a credit/);
});

test('a fine TRANSFERRED to the bursar cannot be paid here', async () => {
  const id = await fine('10.00', { status: 'TRANSFERRED' });
  const res = await pay(id, {});
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id', fineId: id });
  expect(await row(id)).toEqual({ remaining: '10.00', status: 'TRANSFERRED' });
});

test('a fine id that is not a uuid is BAD_USER_INPUT naming id; an unknown fine is NOT_FOUND', async () => {
  expect((await pay('fine-1', {})).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  const unknown = '00000000-0000-4000-8000-000000000000';
  expect((await pay(unknown, {})).errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id', fineId: unknown });
});

test('R5.2 R5.3 an operator scoped to the Main library cannot pay a Law fine: NOT_FOUND and nothing changes', async () => {
  const id = await fine('10.00', { owner: 'LAW' });
  const before = await fineState(db(), inst);
  const res = await pay(id, { amount: '1.00' }, tokens.circ_main);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id', fineId: id });
  expect(await fineState(db(), inst)).toEqual(before);
});

test('R5.3 an operator scoped to the Main library sees an institution-owned fine but may not pay it: FORBIDDEN naming the fine', async () => {
  const id = await fine('10.00', { owner: null });
  const res = await pay(id, {}, tokens.circ_main);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', fineId: id });
  expect(await row(id)).toEqual({ remaining: '10.00', status: 'ACTIVE' });
});

test('R5.3 an operator scoped to the Main library pays a Main fine', async () => {
  const id = await fine('10.00', { owner: 'MAIN' });
  const res = await pay(id, { amount: '4.00' }, tokens.circ_main);
  expect(res.data?.payFine.remainingAmount).toBe('6.00');
});

test('R4.2 a Fulfillment Services Operator may not take a payment: FORBIDDEN and nothing changes', async () => {
  const id = await fine('10.00');
  const before = await fineState(db(), inst);
  const res = await pay(id, {}, tokens.fso);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await fineState(db(), inst)).toEqual(before);
});

test('issue 5 item 9: a payment writes a history entry ("OVERDUEFINE 10.00 ACTIVE" -> "OVERDUEFINE 7.00 ACTIVE") and one FINE_PAID event, under the fine\'s owner', async () => {
  const userId = await createPatron(db(), inst);
  const id = await fine('10.00', { owner: 'LAW' }, userId);
  await pay(id, { amount: '3.00', method: 'CREDIT_CARD' });
  expect(await fineHistory(db(), userId)).toEqual([
    { field: 'fines', oldValue: 'OVERDUEFINE 10.00 ACTIVE', newValue: 'OVERDUEFINE 7.00 ACTIVE', ownerLibraryId: libraryId('LAW'), changedBy: 'um' },
  ]);
  expect(await fineEvents(db(), id)).toEqual([{
    eventType: 'FINE_PAID', aggregateType: 'FINE', aggregateId: id, ownerLibraryId: libraryId('LAW'), actor: 'um',
    payload: expect.objectContaining({
      userId, fineId: id, amount: '3.00', method: 'CREDIT_CARD', remainingAmount: '7.00', status: 'ACTIVE',
      changes: [{ field: 'fines', oldValue: 'OVERDUEFINE 10.00 ACTIVE', newValue: 'OVERDUEFINE 7.00 ACTIVE' }],
    }),
  }]);
});

test('R7.8 two payments of the whole balance at once: one closes the fine, the other is refused, and the fine is never overdrawn', async () => {
  const id = await fine('10.00');
  const results = await Promise.all([pay(id, { amount: '10.00' }), pay(id, { amount: '10.00' })]);
  expect(results.filter((r) => r.data?.payFine?.status === 'CLOSED')).toHaveLength(1);
  expect(results.filter((r) => r.errors?.[0].message.includes('is CLOSED'))).toHaveLength(1);
  expect(await row(id)).toEqual({ remaining: '0.00', status: 'CLOSED' });
});

test('R7.8 payFines pays each listed fine in full: all CLOSED, in the order asked, one PAY action and one FINE_PAID event each', async () => {
  const userId = await createPatron(db(), inst);
  const ids = [await fine('10.00', {}, userId), await fine('2.35', { owner: 'LAW' }, userId), await fine('0.05', { owner: null }, userId)];
  await pay(ids[0], { amount: '4.00' });
  const res = await payMany(ids);
  expect(res.data.payFines).toEqual(ids.map((id) => ({ id, status: 'CLOSED', remainingAmount: '0.00' })));
  const pays = await db().query(`SELECT a.fine_id, a.amount::text, a.payment_method, a.comment FROM fine_fee_action a
                                  WHERE a.fine_id = ANY($1::uuid[]) AND a.action_type = 'PAY' ORDER BY a.amount`, [ids]);
  expect(pays).toEqual([
    { fine_id: ids[0], amount: '-6.00', payment_method: 'CREDIT_CARD', comment: 'at the desk' },
    { fine_id: ids[0], amount: '-4.00', payment_method: 'CASH', comment: null },
    { fine_id: ids[1], amount: '-2.35', payment_method: 'CREDIT_CARD', comment: 'at the desk' },
    { fine_id: ids[2], amount: '-0.05', payment_method: 'CREDIT_CARD', comment: 'at the desk' },
  ]);
  const paidEvents = async (id: string) => (await fineEvents(db(), id)).filter((e: { eventType: string }) => e.eventType === 'FINE_PAID').length;
  expect([await paidEvents(ids[0]), await paidEvents(ids[1]), await paidEvents(ids[2])]).toEqual([2, 1, 1]);
  expect((await fineEvents(db(), ids[1]))[0].ownerLibraryId).toBe(libraryId('LAW'));
});

test('R7.8 payFines is all or nothing: one closed fine in the list refuses the whole payment, naming it, and nothing is paid', async () => {
  const ids = [await fine('10.00'), await fine('5.00'), await fine('3.00')];
  await pay(ids[2], {});
  const before = await fineState(db(), inst);
  const res = await payMany(ids);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.fineIds[2]', fineId: ids[2] });
  expect(res.errors?.[0].message).toMatch(new RegExp(`^Fine ${ids[2]} is CLOSED`));
  expect(await fineState(db(), inst)).toEqual(before);
});

test('R5.2 payFines with a Law fine, asked by an operator scoped to the Main library: NOT_FOUND naming it, and nothing is paid', async () => {
  const ids = [await fine('10.00', { owner: 'MAIN' }), await fine('5.00', { owner: 'LAW' })];
  const before = await fineState(db(), inst);
  const res = await payMany(ids, tokens.circ_main);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.fineIds[1]', fineId: ids[1] });
  expect(await fineState(db(), inst)).toEqual(before);
});

test('payFines refuses a fine listed twice, an empty list and more than 100 fines, naming the input', async () => {
  const id = await fine('10.00');
  expect((await payMany([id, id.toUpperCase()])).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.fineIds[1]' });
  expect((await payMany([])).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.fineIds' });
  const many = Array.from({ length: 101 }, () => '00000000-0000-4000-8000-000000000000');
  expect((await payMany(many)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.fineIds' });
  expect(await row(id)).toEqual({ remaining: '10.00', status: 'ACTIVE' });
});

test('R4.2 payFines by a Fulfillment Services Operator is FORBIDDEN', async () => {
  const id = await fine('10.00');
  expect((await payMany([id], tokens.fso)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await row(id)).toEqual({ remaining: '10.00', status: 'ACTIVE' });
});

test('R7.8 payFines costs the same SQL statements for 1 fine as for 25: each step is one batched statement', async () => {
  const cost = async (count: number) => {
    const userId = await createPatron(db(), inst);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(await fine('1.00', {}, userId));
    const before = sqlStatementCount();
    const res = await payMany(ids);
    expect(res.data.payFines).toHaveLength(count);
    return sqlStatementCount() - before;
  };
  const one = await cost(1);
  expect(await cost(25)).toBe(one);
  // The operator's lookup, BEGIN, find in scope, lock, users, actions, balances, history, events, re-read, COMMIT.
  expect(one).toBe(11);
});

test('R4.5 a fine of a protected account cannot be paid: FORBIDDEN naming the fine, nothing changes', async () => {
  const vendor = await createPerson(db(), inst, { primaryIdentifier: 'rialto_fines', recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']], withPassword: false });
  const id = await fine('10.00', {}, vendor);
  const before = await fineState(db(), inst);
  const res = await pay(id, {});
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', fineId: id });
  expect(res.errors?.[0].message).toMatch(/protected account/);
  expect(await fineState(db(), inst)).toEqual(before);
});
