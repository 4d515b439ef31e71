import { sqlStatementCount } from '../../src/db/sql-logger';
import { createFineLoaders } from '../../src/fines/fine.loaders';
import { findActionsOf } from '../../src/fines/fine.repository';
import { createInstitution, createPatron, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { configureFines, givenFine, ledgerMismatches } from './fine-fixtures';

let app: TestApp;
let inst: InstitutionFixture;
let tokens: Record<string, string>;

const SUMMARY = `query($u: ID!) { user(id: $u) { fineSummary { activeBalance disputedBalance transferredBalance openCount exceedsDebtLimit } } }`;
const db = () => app.db.dataSource;
const libraryId = (code: 'MAIN' | 'LAW') => inst.libraries[code].id;
const patron = () => createPatron(db(), inst);
const summary = async (userId: string, token = tokens.um) => (await app.gql(SUMMARY, { u: userId }, token)).data.user.fineSummary;

async function gql(query: string, variables: Record<string, unknown>, token = tokens.um) {
  const res = await app.gql(query, variables, token);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data;
}
const add = async (userId: string, amount: string, extra: Record<string, unknown> = {}, token = tokens.um) =>
  (await gql(`mutation($u: ID!, $in: AddFineInput!) { addFine(userId: $u, input: $in) { id } }`,
    { u: userId, in: { type: 'OVERDUEFINE', amount, ...extra } }, token)).addFine.id as string;
const pay = (id: string, amount: string | null, token = tokens.um) =>
  gql(`mutation($id: ID!, $in: PayInput!) { payFine(id: $id, input: $in) { id } }`, { id, in: { method: 'CASH', amount } }, token);
const dispute = (id: string) => gql(`mutation($id: ID!) { disputeFine(id: $id, comment: "contested") { id } }`, { id });
const restore = (id: string) => gql(`mutation($id: ID!) { restoreFine(id: $id) { id } }`, { id });

beforeAll(async () => {
  app = await startTestApp();
  // The seeds' example: a patron cannot borrow when owing 100 or more.
  inst = await createInstitution(db(), 'TEST', { debtLimit: '100.00' });
  await configureFines(db(), inst);
  tokens = await loginOperators(app, inst, {
    um: ['USER_MANAGER', 'INSTITUTION'],
    um_main: ['USER_MANAGER', 'MAIN'],
    um_law: ['USER_MANAGER', 'LAW'],
  });
});
afterAll(() => app.close());
afterEach(async () => expect(await ledgerMismatches(db(), inst)).toEqual([]));

test('R7.5 R7.6 the example: limit 100, owes 100 of which 20 disputed: counts as 80, not blocked', async () => {
  const userId = await patron();
  await add(userId, '80.00');
  await dispute(await add(userId, '20.00'));
  expect(await summary(userId)).toEqual({
    activeBalance: '80.00', disputedBalance: '20.00', transferredBalance: '0.00', openCount: 2, exceedsDebtLimit: false,
  });
});

test('R7.5 owing exactly the limit blocks borrowing ("cannot borrow when the amount owed is 100 or greater")', async () => {
  const userId = await patron();
  await add(userId, '80.00');
  await add(userId, '20.00');
  expect(await summary(userId)).toMatchObject({ activeBalance: '100.00', exceedsDebtLimit: true });
});

test('R7.5 one cent under the limit does not block', async () => {
  const userId = await patron();
  await add(userId, '99.99');
  expect(await summary(userId)).toMatchObject({ activeBalance: '99.99', exceedsDebtLimit: false });
});

test('R7.5 restoring the disputed 20 brings the balance back to 100: blocked again', async () => {
  const userId = await patron();
  await add(userId, '80.00');
  const disputed = await add(userId, '20.00');
  await dispute(disputed);
  await restore(disputed);
  expect(await summary(userId)).toMatchObject({ activeBalance: '100.00', disputedBalance: '0.00', exceedsDebtLimit: true });
});

test('R7.8 a partial payment below the limit lifts the block', async () => {
  const userId = await patron();
  const id = await add(userId, '100.00');
  await pay(id, '0.01');
  expect(await summary(userId)).toMatchObject({ activeBalance: '99.99', exceedsDebtLimit: false });
});

test('R7.3 a credit lowers the active balance below the limit', async () => {
  const userId = await patron();
  await add(userId, '105.00');
  await add(userId, '10.00', { type: 'CREDIT', comment: 'Refund' });
  expect(await summary(userId)).toMatchObject({ activeBalance: '95.00', exceedsDebtLimit: false, openCount: 2 });
});

test('R7.6 transferred fines are in the transferred balance, not in the active one nor the debt limit', async () => {
  const userId = await patron();
  await givenFine(db(), inst, userId, '150.00', { status: 'TRANSFERRED' });
  await add(userId, '5.00');
  expect(await summary(userId)).toEqual({
    activeBalance: '5.00', disputedBalance: '0.00', transferredBalance: '150.00', openCount: 1, exceedsDebtLimit: false,
  });
});

test('R7.8 a closed fine leaves the balances and the open count', async () => {
  const userId = await patron();
  const id = await add(userId, '30.00');
  await pay(id, null);
  expect(await summary(userId)).toMatchObject({ activeBalance: '0.00', openCount: 0 });
});

test('R5.2 balances respect library independence through payments: each operator sums only the owners it may see', async () => {
  const userId = await patron();
  await add(userId, '10.00', { ownerLibraryId: libraryId('MAIN') });
  const law = await add(userId, '20.00', { ownerLibraryId: libraryId('LAW') });
  await add(userId, '5.00', { type: 'CARDRENEWAL' });
  await pay(law, '7.50', tokens.um_law);
  expect((await summary(userId, tokens.um)).activeBalance).toBe('27.50');
  expect((await summary(userId, tokens.um_law)).activeBalance).toBe('17.50');
  // The Law payment is invisible to Main: its balance is Main's fine plus the institution's.
  expect((await summary(userId, tokens.um_main)).activeBalance).toBe('15.00');
});

test('R5.2 a disputed Law fine counts in the Law operator\'s disputed balance only', async () => {
  const userId = await patron();
  await dispute(await add(userId, '20.00', { ownerLibraryId: libraryId('LAW') }));
  expect((await summary(userId, tokens.um_law)).disputedBalance).toBe('20.00');
  expect((await summary(userId, tokens.um_main)).disputedBalance).toBe('0.00');
});

test('R7.9 fine lists default to ACTIVE and filter by status', async () => {
  const userId = await patron();
  const active = await add(userId, '1.00');
  const disputed = await add(userId, '2.00');
  const closed = await add(userId, '3.00');
  const transferred = await givenFine(db(), inst, userId, '4.00', { status: 'TRANSFERRED' });
  await dispute(disputed);
  await pay(closed, null);
  const lists = await gql(`query($u: ID!) { user(id: $u) {
    byDefault: fines { id }
    inDispute: fines(status: [IN_DISPUTE]) { id }
    closed: fines(status: [CLOSED]) { id }
    exported: fines(status: [TRANSFERRED]) { id }
    all: fines(status: [ACTIVE, IN_DISPUTE, CLOSED, TRANSFERRED]) { id }
  } }`, { u: userId });
  expect(lists.user).toEqual({
    byDefault: [{ id: active }], inDispute: [{ id: disputed }], closed: [{ id: closed }], exported: [{ id: transferred }],
    all: expect.arrayContaining([{ id: active }, { id: disputed }, { id: closed }, { id: transferred }]),
  });
  expect(lists.user.all).toHaveLength(4);
});

test('R7.7 every balance equals the sum of its ledger after each operation, and the actions list tells the story', async () => {
  const userId = await patron();
  const id = await add(userId, '10.00');
  const steps = [() => pay(id, '3.00'), () => dispute(id), () => restore(id), () => pay(id, '0.10'), () => pay(id, '0.20'), () => pay(id, null)];
  for (const step of steps) {
    await step();
    expect(await ledgerMismatches(db(), inst)).toEqual([]);
  }
  const res = await gql(`query($u: ID!) { user(id: $u) { fines(status: [CLOSED]) { remainingAmount actions { type amount } } } }`, { u: userId });
  expect(res.user.fines).toEqual([{
    remainingAmount: '0.00',
    actions: [
      { type: 'CREATE', amount: '10.00' }, { type: 'PAY', amount: '-3.00' }, { type: 'DISPUTE', amount: '0.00' }, { type: 'RESTORE', amount: '0.00' },
      { type: 'PAY', amount: '-0.10' }, { type: 'PAY', amount: '-0.20' }, { type: 'PAY', amount: '-6.70' },
    ],
  }]);
});

test('R7.7 a fine list with its ledgers and users costs the same statements for 1 fine as for 6 (DataLoaders)', async () => {
  const one = await patron();
  const six = await patron();
  await add(one, '1.00');
  for (let i = 0; i < 6; i++) await add(six, `${i + 1}.00`);
  const query = `query($u: ID!) { user(id: $u) { fines { actions { type amount comment } user { id } } } }`;
  const cost = async (userId: string) => {
    const before = sqlStatementCount();
    const res = await gql(query, { u: userId });
    return { statements: sqlStatementCount() - before, fines: res.user.fines };
  };
  const small = await cost(one);
  const large = await cost(six);
  expect(large.fines).toHaveLength(6);
  for (const f of large.fines) expect(f).toEqual({ actions: [{ type: 'CREATE', amount: expect.any(String), comment: null }], user: { id: six } });
  expect(large.statements).toBe(small.statements);
});

test('R7.5 exceedsDebtLimit is the same for every operator: owing 60 at Main and 60 at Law (limit 100) blocks, though a Main operator sees 60.00', async () => {
  const userId = await patron();
  await givenFine(db(), inst, userId, '60.00', { owner: 'MAIN' });
  await givenFine(db(), inst, userId, '60.00', { owner: 'LAW' });
  const amounts = { disputedBalance: '0.00', transferredBalance: '0.00' };
  expect(await summary(userId, tokens.um_main)).toEqual({ ...amounts, activeBalance: '60.00', openCount: 1, exceedsDebtLimit: true });
  expect(await summary(userId, tokens.um_law)).toEqual({ ...amounts, activeBalance: '60.00', openCount: 1, exceedsDebtLimit: true });
  expect(await summary(userId, tokens.um)).toEqual({ ...amounts, activeBalance: '120.00', openCount: 2, exceedsDebtLimit: true });
});

test('R7.5 R7.6 a patron over the limit only at Law is blocked for a Main operator, who sees none of the amounts; disputed and transferred fines elsewhere still never count', async () => {
  const lawOnly = await patron();
  await givenFine(db(), inst, lawOnly, '120.00', { owner: 'LAW' });
  expect(await summary(lawOnly, tokens.um_main)).toEqual({
    activeBalance: '0.00', disputedBalance: '0.00', transferredBalance: '0.00', openCount: 0, exceedsDebtLimit: true,
  });
  const contested = await patron();
  await givenFine(db(), inst, contested, '60.00', { owner: 'MAIN' });
  await givenFine(db(), inst, contested, '60.00', { owner: 'LAW', status: 'IN_DISPUTE' });
  await givenFine(db(), inst, contested, '60.00', { owner: 'LAW', status: 'TRANSFERRED' });
  for (const token of [tokens.um_main, tokens.um_law, tokens.um]) expect((await summary(contested, token)).exceedsDebtLimit).toBe(false);
  expect(await summary(contested, tokens.um_main)).toMatchObject({ activeBalance: '60.00', disputedBalance: '0.00', transferredBalance: '0.00', openCount: 1 });
});

test('R5.2 Fine.actions never returns actions of a fine outside the owner scope, whoever calls the loader', async () => {
  const userId = await patron();
  const law = await givenFine(db(), inst, userId, '4.00', { owner: 'LAW' });
  const main = await givenFine(db(), inst, userId, '5.00', { owner: 'MAIN' });
  const institutions = await givenFine(db(), inst, userId, '6.00', { owner: null });
  const mainOnly = { all: false as const, libraryIds: [libraryId('MAIN')] };
  const loaders = createFineLoaders({ db: db().manager, institutionId: inst.id, scope: mainOnly });
  const [ofLaw, ofMain, ofInstitution] = await Promise.all([law, main, institutions].map((id) => loaders.fineActionsByFine.load(id)));
  expect(ofLaw).toEqual([]);
  expect(ofMain).toEqual([expect.objectContaining({ fineId: main, actionType: 'CREATE', amount: '5.00' })]);
  expect(ofInstitution).toEqual([expect.objectContaining({ fineId: institutions, actionType: 'CREATE', amount: '6.00' })]);
  expect(await findActionsOf(db().manager, inst.id, mainOnly, [law])).toEqual([]);
  // An institution scope sees them all.
  expect(await createFineLoaders({ db: db().manager, institutionId: inst.id, scope: { all: true } }).fineActionsByFine.load(law))
    .toEqual([expect.objectContaining({ fineId: law, actionType: 'CREATE', amount: '4.00' })]);
});
