import { compactFineActionTotals, compactFineTotals } from '../../src/analytics/fine-totals.repository';
import { findLedgerMismatches } from '../../src/fines/ledger.repository';
import { configureFines } from '../fines/fine-fixtures';
import { createInstitution, createPatron, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 14: analysts' reads of fines across users, through HTTP. The fines are charged, paid, waived and disputed
 * through the API, so the counters the database keeps (migration FineAnalytics) see the same writes as production.
 */

let app: TestApp;
let inst: InstitutionFixture;
const tokens: Record<string, string> = {};
const fines: Record<string, string> = {};
const users: Record<string, string> = {};

const db = () => app.db.dataSource;
const gql = (query: string, variables: Record<string, unknown> = {}, token: string | undefined = tokens.admin) => app.gql(query, variables, token);
const cents = (text: string) => Math.round(Number(text) * 100);
const sum = (values: string[]) => (values.reduce((total, v) => total + cents(v), 0) / 100).toFixed(2);

const TOTALS = `query($f: FinesFilter, $g: [FineDimension!]!, $a: FineActionsFilter) {
  fineTotals(filter: $f, groupBy: $g, actionFilter: $a) {
    owner { institution library { code } } feeType status monthCreated userGroup waiveReason paymentMethod count original remaining paid waived } }`;
const LIST = `query($f: FinesFilter, $s: FineSort, $first: Int, $after: String) {
  fines(filter: $f, sort: $s, first: $first, after: $after) {
    totalCount totals { original remaining paid waived }
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id type originalAmount remainingAmount status createdAt statusDate owner { library { code } } } } } }`;
const ACTIONS = `query($f: FineActionsFilter, $s: FineActionSort, $first: Int, $after: String) {
  fineActions(filter: $f, sort: $s, first: $first, after: $after) {
    totalCount totals { amount paid waived }
    pageInfo { hasNextPage endCursor }
    edges { node { id type amount reason paymentMethod createdBy fine { id } } } } }`;

const totals = async (groupBy: string[], filter: Record<string, unknown> | null = null, token = tokens.admin, actionFilter: unknown = null) => {
  const res = await gql(TOTALS, { f: filter, g: groupBy, a: actionFilter }, token);
  expect(res.errors).toBeUndefined();
  return res.data.fineTotals as Record<string, any>[];
};
const list = async (variables: Record<string, unknown>, token = tokens.admin) => {
  const res = await gql(LIST, { first: 100, ...variables }, token);
  expect(res.errors).toBeUndefined();
  return res.data.fines;
};
const actions = async (variables: Record<string, unknown>, token = tokens.admin) => {
  const res = await gql(ACTIONS, { first: 100, ...variables }, token);
  expect(res.errors).toBeUndefined();
  return res.data.fineActions;
};

async function charge(name: string, userId: string, type: string, amount: string, owner: 'MAIN' | 'LAW' | null): Promise<string> {
  const res = await gql(`mutation($u: ID!, $in: AddFineInput!) { addFine(userId: $u, input: $in) { id } }`,
    { u: userId, in: { type, amount, ownerLibraryId: owner && inst.libraries[owner].id, comment: type === 'CREDIT' ? 'refund' : null } });
  expect(res.errors).toBeUndefined();
  return (fines[name] = res.data.addFine.id);
}

beforeAll(async () => {
  app = await startTestApp({ jobs: false });
  inst = await createInstitution(db());
  await configureFines(db(), inst);
  Object.assign(tokens, await loginOperators(app, inst, {
    admin: ['USER_ADMINISTRATOR', 'INSTITUTION'],
    analyst: ['DESIGN_ANALYTICS', 'INSTITUTION'],
    analyst_main: ['DESIGN_ANALYTICS', 'MAIN'],
    analyst_law_desk: ['DESIGN_ANALYTICS', 'LAW_DESK'],
    um: ['USER_MANAGER', 'INSTITUTION'],
    circ: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
  }));
  users.undergrad = await createPatron(db(), inst);
  users.staffGroup = await createPatron(db(), inst, { expiryDate: '2031-06-15' });
  users.staffRecord = await createPatron(db(), inst, { recordType: 'STAFF' });
  await db().query(`UPDATE app_user SET user_group = 'UNDERGRAD' WHERE id = $1`, [users.undergrad]);
  await db().query(`UPDATE app_user SET user_group = 'STAFF' WHERE id = $1`, [users.staffGroup]);

  await charge('overdueMain', users.undergrad, 'OVERDUEFINE', '10.00', 'MAIN');
  await charge('lostLaw', users.undergrad, 'LOSTITEMREPLACEMENTFEE', '30.00', 'LAW');
  await charge('card', users.undergrad, 'CARDRENEWAL', '5.00', null);
  await charge('credit', users.undergrad, 'CREDIT', '3.00', null);
  await charge('overdueLaw', users.staffGroup, 'OVERDUEFINE', '2.50', 'LAW');
  await charge('damaged', users.staffGroup, 'DAMAGEDITEMFINE', '12.25', 'MAIN');
  await charge('staffOverdue', users.staffRecord, 'OVERDUEFINE', '1.00', 'MAIN');
  await charge('equalA', users.staffRecord, 'OVERDUEFINE', '1.00', 'MAIN');
  await charge('equalB', users.staffRecord, 'OVERDUEFINE', '1.00', 'MAIN');
  const ok = (res: { errors?: unknown }) => expect(res.errors).toBeUndefined();
  ok(await gql(`mutation($id: ID!) { payFine(id: $id, input: { amount: "4.00", method: CASH }) { id } }`, { id: fines.overdueMain }));
  ok(await gql(`mutation($id: ID!) { payFine(id: $id, input: { method: CREDIT_CARD }) { id } }`, { id: fines.damaged }));
  ok(await gql(`mutation($ids: [ID!]) { waiveFines(input: { fineIds: $ids, reason: "GOODWILL" }) { count } }`, { ids: [fines.lostLaw] }));
  ok(await gql(`mutation($id: ID!) { disputeFine(id: $id, comment: "Returned on time") { id } }`, { id: fines.card }));

  // Another institution's fines, which no operator here may count.
  const other = await createInstitution(db(), 'ELSEWHERE');
  await configureFines(db(), other);
  const stranger = await createPatron(db(), other);
  await db().query(
    `INSERT INTO fine_fee (institution_id, user_id, fine_type, owner_library_id, original_amount, remaining_amount, created_by)
     VALUES ($1, $2, 'OVERDUEFINE', NULL, 99.00, 99.00, 'test')`, [other.id, stranger]);
});
afterEach(async () => {
  expect(await findLedgerMismatches(db().manager, inst.id)).toEqual([]);
});
afterAll(() => app.close());

describe('fines: the list across users', () => {
  test('totals equal the sum of the listed rows (count, original, remaining)', async () => {
    const page = await list({});
    const nodes = page.edges.map((e: any) => e.node);
    expect(page.totalCount).toBe(nodes.length);
    expect(nodes).toHaveLength(9);
    expect(page.totals.original).toBe(sum(nodes.map((n: any) => n.originalAmount)));
    expect(page.totals.remaining).toBe(sum(nodes.map((n: any) => n.remainingAmount)));
    expect(page.totals).toEqual({ original: '59.75', remaining: '13.50', paid: '16.25', waived: '30.00' });
  });

  test('every page reports the totals of the whole filtered set, and paging with ties on the sort key lists each fine once', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: any = await list({ first: 2, after, s: { field: 'ORIGINAL_AMOUNT', direction: 'ASC' } });
      expect(page.totalCount).toBe(9);
      expect(page.totals.remaining).toBe('13.50');
      seen.push(...page.edges.map((e: any) => e.node.id));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(new Set(seen).size).toBe(9);
    expect(seen[0]).toBe(fines.credit);
  });

  test('sorted by remaining amount, largest first', async () => {
    const page = await list({ s: { field: 'REMAINING_AMOUNT', direction: 'DESC' } });
    const remaining = page.edges.map((e: any) => cents(e.node.remainingAmount));
    expect(remaining).toEqual([...remaining].sort((a, b) => b - a));
    expect(page.edges[0].node.id).toBe(fines.overdueMain);
  });

  test('a fine reaches its user, of whom an analyst reads who it is and nothing more', async () => {
    const who = await gql(`{ fines(first: 1, filter: { feeType: ["LOSTITEMREPLACEMENTFEE"] }) { edges { node { user { id primaryIdentifier } actions { type } } } } }`,
      {}, tokens.analyst);
    expect(who.errors).toBeUndefined();
    expect(who.data.fines.edges[0].node.user.id).toBe(users.undergrad);
    expect(who.data.fines.edges[0].node.actions.map((a: any) => a.type)).toEqual(['CREATE', 'WAIVE']);
    const more = await gql(`{ fines(first: 1) { edges { node { user { emails { address } } } } } }`, {}, tokens.analyst);
    expect(more.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});

describe('boundary filters', () => {
  test('createdFrom equal to createdBefore is an empty range: nothing matches, totals are zero', async () => {
    const [{ createdAt }] = (await list({})).edges.map((e: any) => e.node);
    const page = await list({ f: { createdFrom: createdAt, createdBefore: createdAt } });
    expect(page.totalCount).toBe(0);
    expect(page.totals).toEqual({ original: '0.00', remaining: '0.00', paid: '0.00', waived: '0.00' });
  });

  test('createdFrom is inclusive and createdBefore exclusive, to the microsecond', async () => {
    const [row] = await db().query(`SELECT created_at FROM fine_fee WHERE id = $1`, [fines.damaged]);
    const at = row.created_at.toISOString();
    const from = await list({ f: { createdFrom: at, feeType: ['DAMAGEDITEMFINE'] } });
    expect(from.edges.map((e: any) => e.node.id)).toEqual([fines.damaged]);
    const before = await list({ f: { createdBefore: at, feeType: ['DAMAGEDITEMFINE'] } });
    // The column keeps microseconds: the millisecond instant the API shows is at or before it.
    expect(before.totalCount).toBe(0);
  });

  test('bounds the wrong way round are BAD_USER_INPUT naming the field, and change nothing', async () => {
    const res = await gql(LIST, { f: { createdFrom: '2026-02-01T00:00:00Z', createdBefore: '2026-01-01T00:00:00Z' } });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.createdBefore' });
    const amounts = await gql(TOTALS, { f: { minAmount: '5.00', maxAmount: '4.99' }, g: [] });
    expect(amounts.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.maxAmount' });
  });

  test('minAmount equal to maxAmount selects exactly that amount', async () => {
    const page = await list({ f: { minAmount: '12.25', maxAmount: '12.25' } });
    expect(page.edges.map((e: any) => e.node.id)).toEqual([fines.damaged]);
    const ones = await list({ f: { minAmount: '1.00', maxAmount: '1' } });
    expect(ones.totalCount).toBe(3);
  });

  test('closedFrom and closedBefore select CLOSED fines by the instant they closed', async () => {
    const [row] = await db().query(`SELECT status_date FROM fine_fee WHERE id = $1`, [fines.damaged]);
    const closedAt = new Date(row.status_date.getTime() - 1).toISOString();
    const page = await list({ f: { closedFrom: closedAt } });
    expect(page.edges.map((e: any) => e.node.id)).toEqual(expect.arrayContaining([fines.damaged, fines.lostLaw]));
    expect(page.edges.every((e: any) => e.node.status === 'CLOSED')).toBe(true);
    expect((await list({ f: { closedFrom: closedAt, closedBefore: closedAt } })).totalCount).toBe(0);
  });

  test('hasDispute, userGroup, recordType and the user expiry range each narrow the fines exactly', async () => {
    const ids = async (f: Record<string, unknown>) => (await list({ f })).edges.map((e: any) => e.node.id).sort();
    expect(await ids({ hasDispute: true })).toEqual([fines.card]);
    expect(await ids({ userGroup: 'STAFF' })).toEqual([fines.overdueLaw, fines.damaged].sort());
    expect(await ids({ recordType: 'STAFF' })).toEqual([fines.staffOverdue, fines.equalA, fines.equalB].sort());
    expect(await ids({ userExpiresFrom: '2031-06-15', userExpiresBefore: '2031-06-16' })).toEqual([fines.overdueLaw, fines.damaged].sort());
    expect(await ids({ userExpiresFrom: '2031-06-16' })).toEqual([]);
    expect(await ids({ institutionOwned: true })).toEqual([fines.card, fines.credit].sort());
  });

  test('an owner that is not an id is BAD_USER_INPUT naming it', async () => {
    const res = await gql(LIST, { f: { ownerLibraryId: 'MAIN' } });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.ownerLibraryId' });
  });
});

describe('fineTotals: grouped', () => {
  const money = ['original', 'remaining', 'paid', 'waived'] as const;

  test.each(['OWNER', 'FEE_TYPE', 'STATUS', 'MONTH_CREATED', 'USER_GROUP'])('rows grouped by %s add up to the ungrouped total', async (dimension) => {
    const [total] = await totals([]);
    const rows = await totals([dimension]);
    expect(rows.reduce((n, r) => n + r.count, 0)).toBe(total.count);
    for (const field of money) expect(sum(rows.map((r) => r[field]))).toBe(total[field]);
  });

  test('three dimensions at once: one row per combination that occurs, sorted', async () => {
    const rows = await totals(['STATUS', 'OWNER', 'FEE_TYPE'], { status: ['ACTIVE', 'CLOSED'] });
    const keys = rows.map((r) => `${r.status}/${r.owner.library?.code ?? 'institution'}/${r.feeType}`);
    expect([...keys].sort()).toEqual([
      'ACTIVE/LAW/OVERDUEFINE', 'ACTIVE/MAIN/OVERDUEFINE', 'ACTIVE/institution/CREDIT', 'CLOSED/LAW/LOSTITEMREPLACEMENTFEE', 'CLOSED/MAIN/DAMAGEDITEMFINE',
    ]);
    const statuses = rows.map((r) => r.status);
    expect(statuses).toEqual([...statuses].sort());
    // Within a status, the institution (a null owner) comes last.
    expect(rows[2].owner.institution).toBe(true);
    const main = rows.find((r) => r.status === 'ACTIVE' && r.owner.library?.code === 'MAIN')!;
    expect(main).toMatchObject({ count: 4, original: '13.00', remaining: '9.00', paid: '4.00', waived: '0.00', userGroup: null });
  });

  test('the totals the database keeps equal a count over the fines, before and after they are folded', async () => {
    // A filter on the amount cannot be answered by the kept totals: the same fines are then counted one by one.
    const everything = { minAmount: '-1000000.00' };
    for (const groupBy of [[], ['OWNER', 'STATUS'], ['USER_GROUP', 'MONTH_CREATED']]) {
      expect(await totals(groupBy)).toEqual(await totals(groupBy, everything));
    }
    await compactFineTotals(db());
    expect(await totals(['FEE_TYPE', 'STATUS'])).toEqual(await totals(['FEE_TYPE', 'STATUS'], everything));
  });

  test('the ledger totals the database keeps equal a count over the actions, before and after they are folded', async () => {
    // Every action here is the admin's: filtering by operator, which the kept totals cannot answer, counts the same ones.
    const everyAction = { createdBy: 'admin' };
    expect((await actions({})).totals).toEqual((await actions({ f: everyAction })).totals);
    const everyFine = { minAmount: '-1000000.00' };
    for (const groupBy of [['PAYMENT_METHOD', 'OWNER'], ['WAIVE_REASON', 'FEE_TYPE']]) expect(await totals(groupBy)).toEqual(await totals(groupBy, everyFine));
    await compactFineActionTotals(db());
    expect(await totals(['PAYMENT_METHOD'])).toEqual(await totals(['PAYMENT_METHOD'], everyFine));
    expect((await actions({ f: { type: ['PAY'] } })).totals).toEqual((await actions({ f: { type: ['PAY'], ...everyAction } })).totals);
  });

  test('a user moving to another group moves its fines in the grouped totals', async () => {
    const before = await totals(['USER_GROUP']);
    await db().query(`UPDATE app_user SET user_group = 'STAFF' WHERE id = $1`, [users.staffRecord]);
    try {
      const after = await totals(['USER_GROUP']);
      expect(after.find((r) => r.userGroup === 'STAFF')!.count).toBe(before.find((r) => r.userGroup === 'STAFF')!.count + 3);
      expect(after.find((r) => r.userGroup === null)).toBeUndefined();
    } finally {
      await db().query(`UPDATE app_user SET user_group = NULL WHERE id = $1`, [users.staffRecord]);
    }
  });

  test('grouped by WAIVE_REASON the rows sum the waives; by PAYMENT_METHOD, the payments', async () => {
    expect(await totals(['WAIVE_REASON'])).toEqual([expect.objectContaining({ waiveReason: 'GOODWILL', count: 1, waived: '30.00', paid: null, original: null })]);
    const methods = await totals(['PAYMENT_METHOD', 'OWNER']);
    expect(methods.map((r) => [r.paymentMethod, r.owner.library.code, r.count, r.paid])).toEqual([
      ['CASH', 'MAIN', 1, '4.00'], ['CREDIT_CARD', 'MAIN', 1, '12.25'],
    ]);
    const [total] = await totals([]);
    expect(sum(methods.map((r) => r.paid))).toBe(total.paid);
  });

  test('actionFilter chooses which actions the rows sum: none in the future', async () => {
    expect(await totals(['WAIVE_REASON'], null, tokens.admin, { from: '2099-01-01T00:00:00Z' })).toEqual([]);
  });

  test('groupBy is refused whole when it is not a summary: four dimensions, a repeat, both action dimensions, an action dimension with STATUS', async () => {
    for (const g of [['OWNER', 'FEE_TYPE', 'STATUS', 'USER_GROUP'], ['OWNER', 'OWNER'], ['WAIVE_REASON', 'PAYMENT_METHOD'], ['WAIVE_REASON', 'STATUS']]) {
      const res = await gql(TOTALS, { g });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: expect.stringMatching(/^groupBy/) });
    }
    const res = await gql(TOTALS, { g: ['OWNER'], a: { from: '2026-01-01T00:00:00Z' } });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'actionFilter' });
  });
});

describe('fineActions: the ledger across users', () => {
  test('R7.7 across the institution: the sum of every action equals the remaining total of every fine', async () => {
    const ledger = await actions({});
    const [total] = await totals([]);
    expect(ledger.totals.amount).toBe(total.remaining);
    expect(ledger.totals).toMatchObject({ paid: total.paid, waived: total.waived });
    expect(ledger.totalCount).toBe(ledger.edges.length);
    expect(ledger.totals.amount).toBe(sum(ledger.edges.map((e: any) => e.node.amount)));
  });

  test('filtered by type, reason, method and operator, with totals over the filtered set', async () => {
    const paid = await actions({ f: { type: ['PAY'] } });
    expect(paid.totalCount).toBe(2);
    expect(paid.totals).toEqual({ amount: '-16.25', paid: '16.25', waived: '0.00' });
    expect((await actions({ f: { paymentMethod: ['CASH'] } })).edges.map((e: any) => e.node.fine.id)).toEqual([fines.overdueMain]);
    expect((await actions({ f: { reason: ['GOODWILL'] } })).totals.waived).toBe('30.00');
    expect((await actions({ f: { createdBy: 'nobody' } })).totalCount).toBe(0);
    expect((await actions({ f: { createdBy: 'admin' } })).totalCount).toBe(13);
  });

  test('paging through the ledger sorted by amount lists each action once', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: any = await actions({ first: 3, after, s: { field: 'AMOUNT', direction: 'ASC' } });
      seen.push(...page.edges.map((e: any) => e.node.id));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(new Set(seen).size).toBe(13);
  });
});

describe('R5.2 library independence and the analytics permission', () => {
  test('a MAIN analyst\'s totals exclude LAW\'s fines exactly (compared with an institution analyst on the same data)', async () => {
    const [all] = await totals([], null, tokens.analyst);
    const [law] = await totals([], { ownerLibraryId: inst.libraries.LAW.id }, tokens.analyst);
    const [main] = await totals([], null, tokens.analyst_main);
    expect(main.count).toBe(all.count - law.count);
    for (const field of ['original', 'remaining', 'paid', 'waived']) expect(cents(main[field])).toBe(cents(all[field]) - cents(law[field]));
    expect((await totals(['OWNER'], null, tokens.analyst_main)).map((r) => r.owner.library?.code ?? null)).toEqual(['MAIN', null]);
  });

  test('a MAIN analyst asking for LAW\'s fines gets nothing, with no hint that they exist', async () => {
    const law = { ownerLibraryId: inst.libraries.LAW.id };
    expect((await totals([], law, tokens.analyst_main))[0]).toMatchObject({ count: 0, original: '0.00' });
    expect((await list({ f: law }, tokens.analyst_main)).totalCount).toBe(0);
    expect((await actions({ f: { ownerLibraryId: inst.libraries.LAW.id } }, tokens.analyst_main)).totalCount).toBe(0);
    expect(await totals(['WAIVE_REASON'], null, tokens.analyst_main)).toEqual([]);
  });

  test('R5.2 a MAIN analyst\'s ledger totals exclude LAW\'s actions exactly, whether the kept totals or the actions answer', async () => {
    const kept = (await actions({}, tokens.analyst_main)).totals;
    // By operator, which only the actions themselves can answer: every action here is the admin's.
    expect((await actions({ f: { createdBy: 'admin' } }, tokens.analyst_main)).totals).toEqual(kept);
    const all = (await actions({}, tokens.analyst)).totals;
    const law = (await actions({ f: { ownerLibraryId: inst.libraries.LAW.id } }, tokens.analyst)).totals;
    for (const field of ['amount', 'paid', 'waived'] as const) expect(cents(kept[field])).toBe(cents(all[field]) - cents(law[field]));
    expect(await totals(['PAYMENT_METHOD', 'OWNER'], null, tokens.analyst_main)).toEqual(await totals(['PAYMENT_METHOD', 'OWNER'], { minAmount: '-1000000.00' }, tokens.analyst_main));
  });

  test('R5.2 the user-expiry filter, read through its own index, still leaves out another library\'s fines', async () => {
    const expiring = { userExpiresFrom: '2031-06-15', userExpiresBefore: '2031-06-16' };
    expect((await list({ f: expiring }, tokens.analyst_main)).edges.map((e: any) => e.node.id)).toEqual([fines.damaged]);
    expect((await totals([], expiring, tokens.analyst_main))[0]).toMatchObject({ count: 1, original: '12.25' });
  });

  test('a desk-scoped analyst sees its library\'s fines and the institution\'s, in lists, ledger and totals alike', async () => {
    const page = await list({}, tokens.analyst_law_desk);
    expect(page.edges.every((e: any) => e.node.owner.library === null || e.node.owner.library.code === 'LAW')).toBe(true);
    const [total] = await totals([], null, tokens.analyst_law_desk);
    expect(total.count).toBe(page.totalCount);
    expect((await actions({}, tokens.analyst_law_desk)).totals.amount).toBe(total.remaining);
  });

  test('another institution\'s fines are never listed or counted', async () => {
    const page = await list({});
    expect(page.edges.some((e: any) => e.node.originalAmount === '99.00')).toBe(false);
    expect((await totals([]))[0].count).toBe(9);
  });

  test.each([['fines', `{ fines { totalCount } }`], ['fineActions', `{ fineActions { totalCount } }`],
    ['fineTotals', `{ fineTotals(groupBy: []) { count } }`]])('%s is refused without report.analytics, and to a client without credentials', async (_name, query) => {
    for (const token of [tokens.circ, tokens.um]) expect((await gql(query, {}, token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await app.gql(query, {})).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});
