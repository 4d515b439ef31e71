import type { DataSource } from 'typeorm';
import { configureFines, givenFine } from '../fines/fine-fixtures';
import { createInstitution, createPatron, createPerson, InstitutionFixture, loginOperators } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 13 item 2: loans from circulation. A circulation partner calls
 * recordLoan and returnLoan with its API key; staff read User.loans and
 * openLoanCount under library independence (R5.2); R10.2 refuses deleting
 * and purging a borrower until its loans are returned. Real server, real
 * PostgreSQL, over HTTP.
 */

let app: TestApp;
let inst: InstitutionFixture;
let other: InstitutionFixture;
let ua: string;
let manager: string;
let lawManager: string;
let otherAdmin: string;
const keys: Record<string, string> = {};
const db = (): DataSource => app.db.dataSource;
const MAIN = () => inst.libraries.MAIN.id;
const LAW = () => inst.libraries.LAW.id;

const RECORD = `mutation($in: RecordLoanInput!) { recordLoan(input: $in) {
  id itemBarcode loanDate dueDate returnedAt overdue owner { institution library { code } } user { id } } }`;
const RETURN = `mutation($id: ID!, $at: DateTime) { returnLoan(id: $id, returnedAt: $at) { id returnedAt overdue } }`;
const LOANS = `query($id: ID!, $s: LoanStatusFilter) { user(id: $id) { openLoanCount loans(status: $s) { id itemBarcode returnedAt owner { library { code } } } } }`;
const DELETE = `mutation($id: ID!) { deleteUser(id: $id) { deletedUserId } }`;
const PURGE = `mutation($id: ID!) { purgeUser(id: $id) { id purgedAt } }`;
const EVENTS = `query($u: ID) { events(first: 50, filter: { userId: $u, types: [LOAN_RECORDED, LOAN_RETURNED] }) {
  edges { node { type by changes { field oldValue newValue } ... on UserEvent { userId } } } } }`;

const day = 86_400_000;
const inDays = (n: number) => new Date(Date.now() + n * day).toISOString();
let serial = 0;
const barcode = () => `39001${String(++serial).padStart(8, '0')}`;

/** POSTs a GraphQL request with the given headers. */
async function send(query: string, variables: Record<string, unknown>, headers: Record<string, string>): Promise<GraphQLResponse> {
  const res = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as GraphQLResponse;
}
/** As a partner calls: with its API key. */
const asKey = (key: string, query: string, variables: Record<string, unknown> = {}) => send(query, variables, { 'x-api-key': keys[key] });

/** A key created over the API by the institution's User Administrator, with one role. */
async function givenKey(name: string, roleType: string, scope: { type: string; libraryId?: string }): Promise<void> {
  const res = await app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`, { in: { name, roles: [{ roleType, scope }] } }, ua);
  if (!res.data?.createApiKey) throw new Error(JSON.stringify(res.errors));
  keys[name] = res.data.createApiKey.secret;
}

const loanInput = (userId: string, extra: Record<string, unknown> = {}) => ({ userId, itemBarcode: barcode(), libraryId: MAIN(), dueDate: inDays(21), ...extra });

/** Records a loan as the MAIN desk; fails the test if refused. */
async function lend(userId: string, extra: Record<string, unknown> = {}, key = 'main desk') {
  const res = await asKey(key, RECORD, { in: loanInput(userId, extra) });
  if (!res.data?.recordLoan) throw new Error(JSON.stringify(res.errors));
  return res.data.recordLoan;
}

async function loanRows(): Promise<string> {
  const [row] = await db().query(`SELECT (SELECT md5(coalesce(string_agg(l::text, ',' ORDER BY l::text), '')) FROM loan l) AS loans,
    (SELECT count(*)::int FROM event_outbox) AS events`);
  return JSON.stringify(row);
}

const codeOf = (res: GraphQLResponse) => res.errors?.[0].extensions?.code;
const fieldOf = (res: GraphQLResponse) => res.errors?.[0].extensions?.field;

/** The loan events of a user that an operator's `events` query returns (events are released a moment after commit). */
async function loanEvents(key: string, userId: string, expected: number): Promise<any[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const res = await asKey(key, EVENTS, { u: userId });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    const nodes = res.data?.events.edges.map((e: any) => e.node) ?? [];
    if (nodes.length >= expected || Date.now() > deadline) return nodes;
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db(), 'TEST', { debtLimit: '50.00' });
  other = await createInstitution(db(), 'OTHER');
  await configureFines(db(), inst);
  ({ ua_loans: ua, um_loans: manager, um_law: lawManager } = await loginOperators(app, inst, {
    ua_loans: ['USER_ADMINISTRATOR', 'INSTITUTION'], um_loans: ['USER_MANAGER', 'INSTITUTION'], um_law: ['USER_MANAGER', 'LAW'],
  }));
  ({ ua_other: otherAdmin } = await loginOperators(app, other, { ua_other: ['USER_ADMINISTRATOR', 'INSTITUTION'] }));
  await givenKey('main desk', 'CIRCULATION_DESK_OPERATOR', { type: 'LIBRARY', libraryId: MAIN() });
  await givenKey('law desk', 'CIRCULATION_DESK_OPERATOR', { type: 'LIBRARY', libraryId: LAW() });
  await givenKey('fulfilment', 'FULFILLMENT_SERVICES_OPERATOR', { type: 'INSTITUTION' });
  await givenKey('cataloguing', 'CATALOGER', { type: 'LIBRARY', libraryId: MAIN() });
});
afterAll(() => app.close());

describe('recordLoan and returnLoan through a circulation desk API key', () => {
  test('R13.2 a desk key records a loan at its library: the loan is open, owned by the library, not overdue', async () => {
    const patron = await createPatron(db(), inst);
    const code = barcode();
    const res = await asKey('main desk', RECORD, { in: { userId: patron, itemBarcode: `  ${code} `, libraryId: MAIN(), dueDate: inDays(21) } });
    expect(res.errors).toBeUndefined();
    expect(res.data.recordLoan).toMatchObject({ itemBarcode: code, returnedAt: null, overdue: false, owner: { institution: false, library: { code: 'MAIN' } }, user: { id: patron } });
    expect(new Date(res.data.recordLoan.dueDate).toISOString()).toBe(inDays(21).slice(0, 10) + res.data.recordLoan.dueDate.slice(10));
  });

  test('R13.2 a loan recorded late keeps its loan date, and one past its due date is overdue', async () => {
    const patron = await createPatron(db(), inst);
    const loan = await lend(patron, { loanDate: inDays(-20), dueDate: inDays(-6) });
    expect(loan.loanDate).toBe(inDays(-20).slice(0, 10) + loan.loanDate.slice(10));
    expect(loan.overdue).toBe(true);
  });

  test('R13.2 returnLoan closes the loan at the time given; it leaves the open list and shows under RETURNED and ALL', async () => {
    const patron = await createPatron(db(), inst);
    const kept = await lend(patron);
    const back = await lend(patron, { loanDate: inDays(-5) });
    const at = new Date(Date.now() - 60_000).toISOString();
    const res = await asKey('main desk', RETURN, { id: back.id, at });
    expect(res.errors).toBeUndefined();
    expect(res.data.returnLoan).toEqual({ id: back.id, returnedAt: at, overdue: false });
    const open = await app.gql(LOANS, { id: patron }, manager);
    expect(open.data.user.loans.map((l: any) => l.id)).toEqual([kept.id]);
    expect(open.data.user.openLoanCount).toBe(1);
    const returned = await app.gql(LOANS, { id: patron, s: 'RETURNED' }, manager);
    expect(returned.data.user.loans.map((l: any) => l.id)).toEqual([back.id]);
    const all = await app.gql(LOANS, { id: patron, s: 'ALL' }, manager);
    expect(all.data.user.loans.map((l: any) => l.id).sort()).toEqual([kept.id, back.id].sort());
  });

  test('R13.2 returnLoan without a time returns it now', async () => {
    const loan = await lend(await createPatron(db(), inst));
    const before = Date.now();
    const res = await asKey('main desk', RETURN, { id: loan.id });
    expect(Date.parse(res.data.returnLoan.returnedAt)).toBeGreaterThanOrEqual(before - 1000);
  });

  test('R13.2 returning a returned loan is CONFLICT and changes nothing', async () => {
    const loan = await lend(await createPatron(db(), inst));
    await asKey('main desk', RETURN, { id: loan.id });
    const before = await loanRows();
    const res = await asKey('main desk', RETURN, { id: loan.id });
    expect(codeOf(res)).toBe('CONFLICT');
    expect(res.errors![0].message).toMatch(/already returned/);
    expect(await loanRows()).toBe(before);
  });

  test('R13.2 the fulfilment roles manage loans too (loan.manage)', async () => {
    const loan = await lend(await createPatron(db(), inst), {}, 'fulfilment');
    expect(loan.owner.library.code).toBe('MAIN');
  });
});

describe('who may record and return loans', () => {
  test('R5.3 a desk key cannot record a loan at a library outside its scope: FORBIDDEN, nothing written', async () => {
    const patron = await createPatron(db(), inst);
    const before = await loanRows();
    const res = await asKey('main desk', RECORD, { in: loanInput(patron, { libraryId: LAW() }) });
    expect(codeOf(res)).toBe('FORBIDDEN');
    expect(await loanRows()).toBe(before);
  });

  test('R5.2 another library\'s desk cannot return a loan it cannot see: NOT_FOUND, nothing changed', async () => {
    const loan = await lend(await createPatron(db(), inst));
    const before = await loanRows();
    const res = await asKey('law desk', RETURN, { id: loan.id });
    expect(codeOf(res)).toBe('NOT_FOUND');
    expect(fieldOf(res)).toBe('id');
    expect(await loanRows()).toBe(before);
  });

  test('R13.2 a key without loan.manage (a cataloguer) and a User Manager are refused: FORBIDDEN', async () => {
    const patron = await createPatron(db(), inst);
    const loan = await lend(patron);
    const before = await loanRows();
    expect(codeOf(await asKey('cataloguing', RECORD, { in: loanInput(patron) }))).toBe('FORBIDDEN');
    expect(codeOf(await asKey('cataloguing', RETURN, { id: loan.id }))).toBe('FORBIDDEN');
    expect(codeOf(await app.gql(RECORD, { in: loanInput(patron) }, manager))).toBe('FORBIDDEN');
    expect(codeOf(await app.gql(RETURN, { id: loan.id }, manager))).toBe('FORBIDDEN');
    expect(await loanRows()).toBe(before);
  });

  test('R13.2 without credentials, or with a revoked-looking key, recordLoan is UNAUTHENTICATED', async () => {
    const patron = await createPatron(db(), inst);
    expect(codeOf(await send(RECORD, { in: loanInput(patron) }, {}))).toBe('UNAUTHENTICATED');
    expect(codeOf(await send(RECORD, { in: loanInput(patron) }, { 'x-api-key': 'carrel_forged_key' }))).toBe('UNAUTHENTICATED');
  });

  test('R13.2 another institution\'s administrator neither lends to, returns, nor reads our users\' loans: NOT_FOUND / null', async () => {
    const patron = await createPatron(db(), inst);
    const loan = await lend(patron);
    await createPerson(db(), other, { primaryIdentifier: 'desk_other', roles: [['CIRCULATION_DESK_OPERATOR', 'INSTITUTION']] });
    const otherDesk = await app.login('desk_other', 'correct horse battery');
    const before = await loanRows();
    expect(codeOf(await app.gql(RECORD, { in: { ...loanInput(patron), libraryId: other.libraries.MAIN.id } }, otherDesk))).toBe('NOT_FOUND');
    expect(codeOf(await app.gql(RETURN, { id: loan.id }, otherDesk))).toBe('NOT_FOUND');
    expect((await app.gql(LOANS, { id: patron }, otherAdmin)).data.user).toBeNull();
    expect(await loanRows()).toBe(before);
  });

  test('R4.5 no loan is recorded to a protected account', async () => {
    const exl = await createPerson(db(), inst, { primaryIdentifier: 'exl_loans', recordType: 'PUBLIC' });
    expect(codeOf(await asKey('main desk', RECORD, { in: loanInput(exl) }))).toBe('FORBIDDEN');
  });
});

describe('library independence of the loans read (R5.2)', () => {
  test('R5.2 User.loans and openLoanCount leave out loans of libraries outside the scope; institution scope sees all', async () => {
    const patron = await createPatron(db(), inst);
    const mainLoan = await lend(patron);
    const lawLoan = await lend(patron, { libraryId: LAW() }, 'law desk');
    const asLaw = await asKey('law desk', LOANS, { id: patron });
    expect(asLaw.data.user).toEqual({ openLoanCount: 1, loans: [{ id: lawLoan.id, itemBarcode: lawLoan.itemBarcode, returnedAt: null, owner: { library: { code: 'LAW' } } }] });
    const asMain = await asKey('main desk', LOANS, { id: patron, s: 'ALL' });
    expect(asMain.data.user.loans.map((l: any) => l.id)).toEqual([mainLoan.id]);
    expect(asMain.data.user.openLoanCount).toBe(1);
    const asInstitution = await app.gql(LOANS, { id: patron }, manager);
    expect(asInstitution.data.user.openLoanCount).toBe(2);
  });

  test('R5.2 the users list counts only the loans in scope (openLoanCount on a page)', async () => {
    const patron = await createPatron(db(), inst, { primaryIdentifier: 'page_borrower' });
    await lend(patron);
    await lend(patron, { libraryId: LAW() }, 'law desk');
    const PAGE = `{ users(first: 5, filter: { name: "page_borrower" }) { edges { node { primaryIdentifier openLoanCount } } } }`;
    const page = `query { userByIdentifier(value: "page_borrower") { primaryIdentifier openLoanCount } }`;
    expect((await asKey('law desk', page)).data.userByIdentifier.openLoanCount).toBe(1);
    expect((await app.gql(page, {}, manager)).data.userByIdentifier.openLoanCount).toBe(2);
    const list = await asKey('law desk', PAGE);
    expect(list.errors).toBeUndefined();
  });

  test('R5.2 a loan event is received by operators of the lending library, not by another library\'s', async () => {
    const patron = await createPatron(db(), inst);
    const loan = await lend(patron);
    await asKey('main desk', RETURN, { id: loan.id });
    const seen = await loanEvents('main desk', patron, 2);
    expect(seen.map((e) => e.type)).toEqual(['LOAN_RECORDED', 'LOAN_RETURNED']);
    expect(seen[0]).toMatchObject({ by: 'api-key:main desk', userId: patron, changes: [{ field: 'loans', oldValue: null, newValue: expect.stringContaining(`${loan.itemBarcode} due `) }] });
    expect(seen[1].changes[0].newValue).toMatch(new RegExp(`^${loan.itemBarcode} returned `));
    expect(await loanEvents('fulfilment', patron, 2)).toHaveLength(2);
    expect(await loanEvents('law desk', patron, 0)).toEqual([]);
    const [row] = await db().query(`SELECT aggregate_type, owner_library_id, family FROM event_outbox WHERE event_type = 'LOAN_RECORDED' AND aggregate_id = $1`, [patron]);
    expect(row).toEqual({ aggregate_type: 'USER', owner_library_id: MAIN(), family: 'USER' });
  });

  test('R9 loans write no history entry', async () => {
    const patron = await createPatron(db(), inst);
    await lend(patron);
    expect(await db().query(`SELECT * FROM history_entry WHERE user_id = $1`, [patron])).toEqual([]);
  });
});

describe('what recordLoan refuses', () => {
  test('R13.2 the same item cannot be on two open loans in the institution: CONFLICT naming the barcode; after its return it can be lent again', async () => {
    const [a, b] = [await createPatron(db(), inst), await createPatron(db(), inst)];
    const loan = await lend(a);
    const before = await loanRows();
    const again = await asKey('main desk', RECORD, { in: loanInput(b, { itemBarcode: loan.itemBarcode }) });
    expect(codeOf(again)).toBe('CONFLICT');
    expect(again.errors![0].extensions).toMatchObject({ field: 'input.itemBarcode', value: loan.itemBarcode });
    // Lent by another library: still the same item of the institution.
    expect(codeOf(await asKey('law desk', RECORD, { in: loanInput(b, { itemBarcode: loan.itemBarcode, libraryId: LAW() }) }))).toBe('CONFLICT');
    expect(await loanRows()).toBe(before);
    await asKey('main desk', RETURN, { id: loan.id });
    expect((await lend(b, { itemBarcode: loan.itemBarcode })).itemBarcode).toBe(loan.itemBarcode);
  });

  test('R13.2 two desks recording the same item at once: exactly one loan, the other CONFLICT', async () => {
    const [a, b] = [await createPatron(db(), inst), await createPatron(db(), inst)];
    const item = barcode();
    const results = await Promise.all([
      asKey('main desk', RECORD, { in: loanInput(a, { itemBarcode: item }) }),
      asKey('fulfilment', RECORD, { in: loanInput(b, { itemBarcode: item }) }),
    ]);
    expect(results.map((r) => (r.data?.recordLoan ? 'ok' : codeOf(r))).sort()).toEqual(['CONFLICT', 'ok']);
    const [{ n }] = await db().query(`SELECT count(*)::int AS n FROM loan WHERE item_barcode = $1 AND returned_at IS NULL`, [item]);
    expect(n).toBe(1);
    const [{ e }] = await db().query(`SELECT count(*)::int AS e FROM event_outbox WHERE event_type = 'LOAN_RECORDED' AND payload->>'itemBarcode' = $1`, [item]);
    expect(e).toBe(1);
  });

  test.each([
    ['a due date before the loan date', { loanDate: inDays(-3), dueDate: inDays(-4) }, 'input.dueDate'],
    ['a due date equal to the loan date', { loanDate: '2026-01-05T10:00:00.000Z', dueDate: '2026-01-05T10:00:00.000Z' }, 'input.dueDate'],
    ['a due date already past (no loan date: now)', { dueDate: inDays(-1) }, 'input.dueDate'],
    ['a loan date in the future', { loanDate: inDays(2), dueDate: inDays(20) }, 'input.loanDate'],
    ['a due date before 1850', { dueDate: '1800-01-01T00:00:00Z' }, 'input.dueDate'],
    ['an overlong barcode (201 characters)', { itemBarcode: 'B'.repeat(201) }, 'input.itemBarcode'],
    ['a barcode with a NUL byte', { itemBarcode: 'B1\u0000' }, 'input.itemBarcode'],
    ['a barcode with a zero-width space', { itemBarcode: 'B1\u200b2' }, 'input.itemBarcode'],
    ['a blank barcode', { itemBarcode: '   ' }, 'input.itemBarcode'],
    ['a forged user id', { userId: "1' OR '1'='1" }, 'input.userId'],
    ['a forged library id', { libraryId: 'MAIN' }, 'input.libraryId'],
    ['an unknown library id', { libraryId: '3434d5c9-37a2-4da4-8032-f08ba9b461ad' }, 'input.libraryId'],
  ])('R13.2 %s is BAD_USER_INPUT naming the field; nothing written', async (_what, extra, field) => {
    const patron = await createPatron(db(), inst);
    const before = await loanRows();
    const res = await asKey('main desk', RECORD, { in: loanInput(patron, extra) });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(fieldOf(res)).toBe(field);
    expect(await loanRows()).toBe(before);
  });

  test('R13.2 an unknown user id is NOT_FOUND', async () => {
    const res = await asKey('main desk', RECORD, { in: loanInput('3434d5c9-37a2-4da4-8032-f08ba9b461ad') });
    expect(codeOf(res)).toBe('NOT_FOUND');
  });

  test('R1.1 a CONTACT is not a borrower: BAD_USER_INPUT', async () => {
    const contact = await createPerson(db(), inst, { recordType: 'CONTACT', withPassword: false });
    const res = await asKey('main desk', RECORD, { in: loanInput(contact) });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(fieldOf(res)).toBe('input.userId');
  });

  test.each([
    ['INACTIVE', { status: 'INACTIVE' as const }],
    ['EXPIRED', { expiryDate: '2020-01-31' }],
  ])('R1.5 a user who is not active-and-not-expired may not borrow: CONFLICT with the reason %s', async (code, spec) => {
    const patron = await createPatron(db(), inst, spec);
    const before = await loanRows();
    const res = await asKey('main desk', RECORD, { in: loanInput(patron) });
    expect(codeOf(res)).toBe('CONFLICT');
    expect(res.errors![0].extensions!.reasons).toEqual([expect.objectContaining({ code })]);
    expect(await loanRows()).toBe(before);
  });

  test('R6.2 an active block of the institution or of the lending library refuses the loan; an expired block or another library\'s block does not', async () => {
    const block = (userId: string, owner: string | null, expiry: string | null) => db().query(
      `INSERT INTO user_block (institution_id, user_id, block_type, owner_library_id, expiry_date, created_by) VALUES ($1, $2, 'GENERAL', $3, $4, 'test')`,
      [inst.id, userId, owner, expiry]);
    const [byInstitution, byMain, byLaw, expired] = await Promise.all([1, 2, 3, 4].map(() => createPatron(db(), inst)));
    await block(byInstitution, null, null);
    await block(byMain, MAIN(), inDays(10));
    await block(byLaw, LAW(), null);
    await block(expired, null, inDays(-1));
    for (const blocked of [byInstitution, byMain]) {
      const res = await asKey('main desk', RECORD, { in: loanInput(blocked) });
      expect(codeOf(res)).toBe('CONFLICT');
      expect(res.errors![0].extensions!.reasons).toEqual([{ code: 'ACTIVE_BLOCK', message: expect.stringContaining('GENERAL') }]);
    }
    await lend(byLaw);
    await lend(expired);
  });

  test('R7.5 a patron owing the debt limit or more may not borrow (disputed amounts do not count)', async () => {
    const owing = await createPatron(db(), inst);
    await givenFine(db(), inst, owing, '50.00', { owner: 'LAW' });
    const res = await asKey('main desk', RECORD, { in: loanInput(owing) });
    expect(codeOf(res)).toBe('CONFLICT');
    expect(res.errors![0].extensions!.reasons).toEqual([expect.objectContaining({ code: 'DEBT_LIMIT' })]);
    const disputing = await createPatron(db(), inst);
    await givenFine(db(), inst, disputing, '30.00');
    await givenFine(db(), inst, disputing, '20.00', { status: 'IN_DISPUTE' });
    await lend(disputing);
  });

  test('R1.5 every reason is listed at once', async () => {
    const patron = await createPatron(db(), inst, { status: 'INACTIVE' });
    await db().query(`INSERT INTO user_block (institution_id, user_id, block_type, created_by) VALUES ($1, $2, 'GENERAL', 'test')`, [inst.id, patron]);
    await givenFine(db(), inst, patron, '60.00');
    const res = await asKey('main desk', RECORD, { in: loanInput(patron) });
    expect(res.errors![0].extensions!.reasons.map((r: any) => r.code)).toEqual(['INACTIVE', 'ACTIVE_BLOCK', 'DEBT_LIMIT']);
  });

  test.each([
    ['a forged loan id', "x' OR 1=1 --", 'BAD_USER_INPUT'],
    ['an unknown loan id', '3434d5c9-37a2-4da4-8032-f08ba9b461ad', 'NOT_FOUND'],
  ])('R13.2 returnLoan with %s is %s', async (_what, id, code) => {
    expect(codeOf(await asKey('main desk', RETURN, { id }))).toBe(code);
  });

  test.each([
    ['before the loan date', -30, 'returnedAt'],
    ['in the future', 2, 'returnedAt'],
  ])('R13.2 a return time %s is BAD_USER_INPUT; the loan stays open', async (_what, days, field) => {
    const loan = await lend(await createPatron(db(), inst), { loanDate: inDays(-10) });
    const res = await asKey('main desk', RETURN, { id: loan.id, at: inDays(days) });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(fieldOf(res)).toBe(field);
    const [row] = await db().query(`SELECT returned_at FROM loan WHERE id = $1`, [loan.id]);
    expect(row.returned_at).toBeNull();
  });
});

describe('R10.2 end to end: open loans refuse deleting and purging', () => {
  test('R10.2 a loan recorded by the desk key refuses deleteUser and purgeUser with OPEN_LOANS; once returned, the user is deleted', async () => {
    const patron = await createPatron(db(), inst);
    const loan = await lend(patron);
    for (const [mutation, name] of [[DELETE, 'deleteUser'], [PURGE, 'purgeUser']] as const) {
      const res = await app.gql(mutation, { id: patron }, manager);
      expect({ name, code: codeOf(res) }).toEqual({ name, code: 'CONFLICT' });
      expect(res.errors![0].extensions!.reasons).toEqual([{ code: 'OPEN_LOANS', message: '1 loan is not returned yet' }]);
    }
    expect((await asKey('main desk', RETURN, { id: loan.id })).errors).toBeUndefined();
    const deleted = await app.gql(DELETE, { id: patron }, manager);
    expect(deleted.data.deleteUser.deletedUserId).toBe(patron);
  });

  test('R10.2 the refusal counts every open loan, also those the operator cannot see (a LAW manager, a MAIN loan)', async () => {
    const patron = await createPatron(db(), inst);
    await lend(patron);
    await lend(patron);
    const seen = await app.gql(LOANS, { id: patron }, lawManager);
    expect(seen.data.user).toEqual({ openLoanCount: 0, loans: [] });
    const res = await app.gql(DELETE, { id: patron }, lawManager);
    expect(codeOf(res)).toBe('CONFLICT');
    expect(res.errors![0].extensions!.reasons).toEqual([{ code: 'OPEN_LOANS', message: '2 loans are not returned yet' }]);
  });

  test('R10.2 a loan recorded while a deletion waits for the user is counted (the borrower\'s row is locked by both)', async () => {
    const patron = await createPatron(db(), inst);
    const [recorded, deleted] = await Promise.all([asKey('main desk', RECORD, { in: loanInput(patron) }), app.gql(DELETE, { id: patron }, manager)]);
    // Either the loan came first and the deletion is refused, or the deletion came first and the loan finds no user.
    if (recorded.data?.recordLoan) expect(codeOf(deleted)).toBe('CONFLICT');
    else expect([codeOf(recorded), deleted.data?.deleteUser?.deletedUserId]).toEqual(['NOT_FOUND', patron]);
  });
});

describe('attacks kept from the review of issue 13 item 2', () => {
  test('R11.2 a revoked circulation key is UNAUTHENTICATED: it neither lends nor returns, nothing written', async () => {
    const created = await app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { apiKey { id } secret } }`,
      { in: { name: 'revoked desk', roles: [{ roleType: 'CIRCULATION_DESK_OPERATOR', scope: { type: 'LIBRARY', libraryId: MAIN() } }] } }, ua);
    const { apiKey, secret } = created.data.createApiKey;
    const patron = await createPatron(db(), inst);
    const loan = await lend(patron);
    expect((await app.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: apiKey.id }, ua)).errors).toBeUndefined();
    const before = await loanRows();
    expect(codeOf(await send(RECORD, { in: loanInput(patron) }, { 'x-api-key': secret }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await send(RETURN, { id: loan.id }, { 'x-api-key': secret }))).toBe('UNAUTHENTICATED');
    expect(await loanRows()).toBe(before);
  });

  test('R5.3 a desk operator scoped to the LAW desk cannot lend at MAIN (FORBIDDEN) and cannot return a MAIN loan (NOT_FOUND); nothing written', async () => {
    const { desk_law_only: lawDesk } = await loginOperators(app, inst, { desk_law_only: ['CIRCULATION_DESK_OPERATOR', 'LAW_DESK'] });
    const patron = await createPatron(db(), inst);
    const loan = await lend(patron);
    const before = await loanRows();
    expect(codeOf(await app.gql(RECORD, { in: loanInput(patron) }, lawDesk))).toBe('FORBIDDEN');
    const returned = await app.gql(RETURN, { id: loan.id }, lawDesk);
    expect(returned.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
    expect(await loanRows()).toBe(before);
    // Its own library is within its desk's scope.
    expect((await app.gql(RECORD, { in: loanInput(patron, { libraryId: LAW() }) }, lawDesk)).errors).toBeUndefined();
  });

  test('R5.2 a users page counts only the loans of libraries in scope (openLoanCount read in the page\'s statement)', async () => {
    const patron = await createPatron(db(), inst, { primaryIdentifier: 'page_borrower_scoped' });
    await lend(patron);
    await lend(patron);
    await lend(patron, { libraryId: LAW() }, 'law desk');
    const PAGE = `{ users(first: 5, filter: { name: "page_borrower_scoped" }) { edges { node { primaryIdentifier openLoanCount loans { owner { library { code } } } } } } }`;
    const node = async (res: Promise<GraphQLResponse>) => (await res).data.users.edges.map((e: any) => e.node);
    expect(await node(asKey('law desk', PAGE))).toEqual([{ primaryIdentifier: 'page_borrower_scoped', openLoanCount: 1, loans: [{ owner: { library: { code: 'LAW' } } }] }]);
    expect(await node(asKey('main desk', PAGE))).toEqual([expect.objectContaining({ openLoanCount: 2 })]);
    expect(await node(app.gql(PAGE, {}, manager))).toEqual([expect.objectContaining({ openLoanCount: 3 })]);
  });

  test('R13.2 two returns of one loan at once: exactly one succeeds, the other is CONFLICT; one LOAN_RETURNED event', async () => {
    const patron = await createPatron(db(), inst);
    const loan = await lend(patron);
    const results = await Promise.all([asKey('main desk', RETURN, { id: loan.id }), asKey('fulfilment', RETURN, { id: loan.id })]);
    expect(results.map((r) => (r.data?.returnLoan ? 'ok' : codeOf(r))).sort()).toEqual(['CONFLICT', 'ok']);
    const [{ n }] = await db().query(`SELECT count(*)::int AS n FROM event_outbox WHERE event_type = 'LOAN_RETURNED' AND payload->>'loanId' = $1`, [loan.id]);
    expect(n).toBe(1);
  });

  test('R13.2 an unknown borrower, or one of another institution, is NOT_FOUND naming input.userId; nothing written', async () => {
    const elsewhere = await createPatron(db(), other);
    const before = await loanRows();
    for (const userId of ['3434d5c9-37a2-4da4-8032-f08ba9b461ad', elsewhere]) {
      const res = await asKey('main desk', RECORD, { in: loanInput(userId) });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.userId' });
    }
    expect(await loanRows()).toBe(before);
  });

  test('R13.2 a library of another institution is BAD_USER_INPUT naming input.libraryId, never a loan there', async () => {
    const patron = await createPatron(db(), inst);
    const before = await loanRows();
    const res = await asKey('main desk', RECORD, { in: loanInput(patron, { libraryId: other.libraries.MAIN.id }) });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.libraryId' });
    expect(await loanRows()).toBe(before);
  });
});
