import { findLedgerMismatches } from '../../src/fines/ledger.repository';
import { createInstitution, createPatron, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { configureFines, fineRow, fineState, givenFine, givenFines } from './fine-fixtures';

let app: TestApp;
let inst: InstitutionFixture;
const tokens: Record<string, string> = {};

const WAIVE = `mutation($in: WaiveFinesInput!) { waiveFines(input: $in) {
  count waivedTotal fines { id type remainingAmount originalAmount status owner { institution library { code } } } } }`;

const db = () => app.db.dataSource;
const patron = () => createPatron(db(), inst);
const waive = (input: Record<string, unknown>, token = tokens.um) => app.gql(WAIVE, { in: { reason: 'GOODWILL', ...input } }, token);
const state = () => fineState(db(), inst);

async function withCap<T>(cap: number, work: () => Promise<T>): Promise<T> {
  await db().query(`UPDATE institution SET waiving_fines_fees_limit = $2 WHERE id = $1`, [inst.id, cap]);
  try {
    return await work();
  } finally {
    await db().query(`UPDATE institution SET waiving_fines_fees_limit = 100 WHERE id = $1`, [inst.id]);
  }
}

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await configureFines(db(), inst);
  Object.assign(tokens, await loginOperators(app, inst, {
    um: ['USER_MANAGER', 'INSTITUTION'],
    circ_main: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
    fso: ['FULFILLMENT_SERVICES_OPERATOR', 'INSTITUTION'],
  }));
});
afterEach(async () => {
  expect(await findLedgerMismatches(db().manager, inst.id)).toEqual([]);
});
afterAll(() => app.close());

test('R7.4 100 fines, exactly the cap, are waived in one action: each CLOSED, with a WAIVE action, a history entry and a FINE_WAIVED event', async () => {
  const userId = await patron();
  const ids = await givenFines(db(), inst, userId, 100, '2.50');
  const res = await waive({ fineIds: ids, comment: 'Amnesty week' });
  expect(res.errors).toBeUndefined();
  expect(res.data.waiveFines).toMatchObject({ count: 100, waivedTotal: '250.00' });
  expect(res.data.waiveFines.fines.map((f: any) => f.id)).toEqual(ids);
  expect(res.data.waiveFines.fines.every((f: any) => f.remainingAmount === '0.00' && f.status === 'CLOSED')).toBe(true);
  const [actions] = await db().query(
    `SELECT count(*)::int AS n, sum(amount)::text AS total, bool_and(reason = 'GOODWILL' AND comment = 'Amnesty week' AND created_by = 'um') AS recorded
       FROM fine_fee_action WHERE fine_id = ANY($1::uuid[]) AND action_type = 'WAIVE'`, [ids]);
  expect(actions).toEqual({ n: 100, total: '-250.00', recorded: true });
  const [history] = await db().query(
    `SELECT count(*)::int AS n, bool_and(owner_library_id = $2) AS owned FROM history_entry WHERE user_id = $1 AND field = 'fines'`, [userId, inst.libraries.MAIN.id]);
  expect(history).toEqual({ n: 100, owned: true });
  const [events] = await db().query(
    `SELECT count(*)::int AS n, count(DISTINCT aggregate_id)::int AS fines FROM event_outbox WHERE event_type = 'FINE_WAIVED' AND payload->>'userId' = $1`, [userId]);
  expect(events).toEqual({ n: 100, fines: 100 });
});

test('R7.4 refuses 101 fines whole: nothing changed, and the error names the limit', async () => {
  const ids = await givenFines(db(), inst, await patron(), 101, '1.00');
  const before = await state();
  const res = await waive({ fineIds: ids });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.fineIds', limit: 100 });
  expect(res.errors?.[0].message).toMatch(/at most 100/);
  expect(await state()).toEqual(before);
});

test('R7.4 with the institution cap set to 20, 21 fines are refused whole and 20 are waived', async () => {
  const ids = await givenFines(db(), inst, await patron(), 21, '1.00');
  await withCap(20, async () => {
    const before = await state();
    const refused = await waive({ fineIds: ids });
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.fineIds', limit: 20 });
    expect(await state()).toEqual(before);
    const accepted = await waive({ fineIds: ids.slice(0, 20) });
    expect(accepted.data?.waiveFines.count).toBe(20);
  });
  expect(await fineRow(db(), ids[20])).toEqual({ remaining: '1.00', status: 'ACTIVE' });
});

test('R7.4 waiving 3.00 of 10.00 leaves 7.00 ACTIVE', async () => {
  const id = await givenFine(db(), inst, await patron(), '10.00');
  const res = await waive({ fineIds: [id], amount: '3.00' });
  expect(res.data.waiveFines).toMatchObject({ count: 1, waivedTotal: '3.00', fines: [{ id, remainingAmount: '7.00', originalAmount: '10.00', status: 'ACTIVE' }] });
  expect(await fineRow(db(), id)).toEqual({ remaining: '7.00', status: 'ACTIVE' });
});

test('R7.4 0.10 then 0.20 waived from 0.30 leaves exactly 0.00 and the fine CLOSED', async () => {
  const id = await givenFine(db(), inst, await patron(), '0.30');
  const first = await waive({ fineIds: [id], amount: '0.10' });
  expect(first.data.waiveFines.fines[0]).toMatchObject({ remainingAmount: '0.20', status: 'ACTIVE' });
  const second = await waive({ fineIds: [id], amount: '0.20' });
  expect(second.data.waiveFines.fines[0]).toMatchObject({ remainingAmount: '0.00', status: 'CLOSED' });
  expect(await fineRow(db(), id)).toEqual({ remaining: '0.00', status: 'CLOSED' });
});

test('R7.4 waiving more than the remaining balance is refused naming the fine, and nothing changes', async () => {
  const id = await givenFine(db(), inst, await patron(), '5.00');
  const before = await state();
  const res = await waive({ fineIds: [id], amount: '5.01' });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.amount', fineId: id });
  expect(res.errors?.[0].message).toContain(id);
  expect(res.errors?.[0].message).toContain('5.00');
  expect(await state()).toEqual(before);
});

test('R7.8 a CLOSED fine cannot be waived: refused naming its position', async () => {
  const userId = await patron();
  const open = await givenFine(db(), inst, userId, '4.00');
  const closed = await givenFine(db(), inst, userId, '4.00', { status: 'CLOSED' });
  const before = await state();
  const res = await waive({ fineIds: [open, closed] });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.fineIds[1]', fineId: closed });
  expect(res.errors?.[0].message).toMatch(/CLOSED/);
  expect(await state()).toEqual(before);
});

test('R7.4 only ACTIVE fines can be waived: a fine IN_DISPUTE is refused (restore it first, R7.5)', async () => {
  const id = await givenFine(db(), inst, await patron(), '4.00', { status: 'IN_DISPUTE' });
  const res = await waive({ fineIds: [id] });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.fineIds[0]', fineId: id });
  expect(res.errors?.[0].message).toMatch(/IN_DISPUTE/);
});

test('R7.3 a credit cannot be waived', async () => {
  const id = await givenFine(db(), inst, await patron(), '-10.00', { owner: null });
  const res = await waive({ fineIds: [id] });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.fineIds[0]', fineId: id });
  expect(await fineRow(db(), id)).toEqual({ remaining: '-10.00', status: 'ACTIVE' });
});

test('R7.4 an unknown waive reason is BAD_USER_INPUT naming input.reason, and nothing changes', async () => {
  const id = await givenFine(db(), inst, await patron(), '4.00');
  const before = await state();
  const res = await waive({ fineIds: [id], reason: 'BIRTHDAY' });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.reason' });
  expect(await state()).toEqual(before);
});

test('R5.2 a fine owned by the Law library is not found for an operator scoped to Main, naming its position; nothing changes', async () => {
  const userId = await patron();
  const main = await givenFine(db(), inst, userId, '4.00', { owner: 'MAIN' });
  const law = await givenFine(db(), inst, userId, '4.00', { owner: 'LAW' });
  const before = await state();
  const res = await waive({ fineIds: [main, law] }, tokens.circ_main);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.fineIds[1]', fineId: law });
  expect(res.errors?.[0].message).toContain(law);
  expect(await state()).toEqual(before);
});

test('R5.3 an institution-owned fine is visible to an operator scoped to Main but not waivable by it: FORBIDDEN naming the fine', async () => {
  const id = await givenFine(db(), inst, await patron(), '4.00', { owner: null });
  const before = await state();
  const res = await waive({ fineIds: [id] }, tokens.circ_main);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'input.fineIds[0]', fineId: id });
  expect(await state()).toEqual(before);
});

test('R5.3 an operator scoped to Main waives a fine owned by Main', async () => {
  const id = await givenFine(db(), inst, await patron(), '4.00', { owner: 'MAIN' });
  const res = await waive({ fineIds: [id] }, tokens.circ_main);
  expect(res.data?.waiveFines.fines).toEqual([expect.objectContaining({ id, status: 'CLOSED', owner: { institution: false, library: { code: 'MAIN' } } })]);
});

test('R5.2 a fine of another institution is not found', async () => {
  const other = await createInstitution(db(), 'OTHER_WAIVE');
  const id = await givenFine(db(), other, await createPatron(db(), other), '4.00', { owner: null });
  const res = await waive({ fineIds: [id] });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.fineIds[0]' });
  expect(await fineRow(db(), id)).toEqual({ remaining: '4.00', status: 'ACTIVE' });
});

test('R7.4 one bad fine among 50 good ones: nothing is waived (all or nothing)', async () => {
  const userId = await patron();
  const good = await givenFines(db(), inst, userId, 50, '3.00');
  const [bad] = await givenFines(db(), inst, userId, 1, '3.00', { status: 'CLOSED' });
  const listed = [...good.slice(0, 37), bad, ...good.slice(37)];
  const before = await state();
  const res = await waive({ fineIds: listed });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.fineIds[37]', fineId: bad });
  expect(await state()).toEqual(before);
});

test('R7.4 the filter form waives every ACTIVE fine of the user matching the types and the owner, and nothing else', async () => {
  const userId = await patron();
  const matching = await givenFines(db(), inst, userId, 3, '2.00', { type: 'OVERDUEFINE', owner: 'MAIN' });
  const otherType = await givenFine(db(), inst, userId, '2.00', { type: 'LOSTITEMFEE', owner: 'MAIN' });
  const otherOwner = await givenFine(db(), inst, userId, '2.00', { type: 'OVERDUEFINE', owner: 'LAW' });
  const disputed = await givenFine(db(), inst, userId, '2.00', { type: 'OVERDUEFINE', owner: 'MAIN', status: 'IN_DISPUTE' });
  const someoneElses = await givenFine(db(), inst, await patron(), '2.00', { type: 'OVERDUEFINE', owner: 'MAIN' });
  const res = await waive({ filter: { userId, types: ['OVERDUEFINE'], ownerLibraryId: inst.libraries.MAIN.id } });
  expect(res.errors).toBeUndefined();
  expect(res.data.waiveFines).toMatchObject({ count: 3, waivedTotal: '6.00' });
  expect(res.data.waiveFines.fines.map((f: any) => f.id).sort()).toEqual([...matching].sort());
  for (const id of [otherType, otherOwner, someoneElses]) expect(await fineRow(db(), id)).toEqual({ remaining: '2.00', status: 'ACTIVE' });
  expect(await fineRow(db(), disputed)).toEqual({ remaining: '2.00', status: 'IN_DISPUTE' });
});

test('R7.4 the filter form leaves credits and closed fines out and waives the rest of the user\'s fines in full', async () => {
  const userId = await patron();
  const open = await givenFines(db(), inst, userId, 2, '1.25');
  const credit = await givenFine(db(), inst, userId, '-5.00', { owner: null });
  await givenFine(db(), inst, userId, '9.00', { status: 'CLOSED' });
  const res = await waive({ filter: { userId } });
  expect(res.data?.waiveFines).toMatchObject({ count: 2, waivedTotal: '2.50' });
  expect(res.data.waiveFines.fines.map((f: any) => f.id).sort()).toEqual([...open].sort());
  expect(await fineRow(db(), credit)).toEqual({ remaining: '-5.00', status: 'ACTIVE' });
});

test('R5.2 the filter form of an operator scoped to Main leaves out the fines owned by Law, which it cannot see', async () => {
  const userId = await patron();
  const main = await givenFine(db(), inst, userId, '2.00', { owner: 'MAIN' });
  const law = await givenFine(db(), inst, userId, '2.00', { owner: 'LAW' });
  const res = await waive({ filter: { userId } }, tokens.circ_main);
  expect(res.data?.waiveFines.fines.map((f: any) => f.id)).toEqual([main]);
  expect(await fineRow(db(), law)).toEqual({ remaining: '2.00', status: 'ACTIVE' });
});

test('R5.3 the filter form of an operator scoped to Main is refused whole when it matches an institution-owned fine; ownerLibraryId narrows it', async () => {
  const userId = await patron();
  const main = await givenFine(db(), inst, userId, '2.00', { owner: 'MAIN' });
  const institutions = await givenFine(db(), inst, userId, '2.00', { owner: null });
  const before = await state();
  const refused = await waive({ filter: { userId } }, tokens.circ_main);
  expect(refused.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'input.filter', fineId: institutions });
  expect(await state()).toEqual(before);
  const narrowed = await waive({ filter: { userId, ownerLibraryId: inst.libraries.MAIN.id } }, tokens.circ_main);
  expect(narrowed.data?.waiveFines.fines.map((f: any) => f.id)).toEqual([main]);
});

test('R7.4 the filter form counts the matching fines against the cap: 21 matching with a cap of 20 are refused whole, 20 are waived', async () => {
  const userId = await patron();
  const ids = await givenFines(db(), inst, userId, 21, '1.00');
  await withCap(20, async () => {
    const before = await state();
    const refused = await waive({ filter: { userId } });
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.filter', limit: 20 });
    expect(await state()).toEqual(before);
    await waive({ fineIds: [ids[0]] });
    const accepted = await waive({ filter: { userId } });
    expect(accepted.data?.waiveFines.count).toBe(20);
  });
});

test('R7.4 the filter form with nothing matching waives nothing and says so', async () => {
  const res = await waive({ filter: { userId: await patron() } });
  expect(res.data?.waiveFines).toEqual({ count: 0, waivedTotal: '0.00', fines: [] });
});

test('R7.4 the filter form on an unknown user is NOT_FOUND naming input.filter.userId', async () => {
  const res = await waive({ filter: { userId: '00000000-0000-4000-8000-000000000000' } });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.filter.userId' });
});

test('R7.4 an amount with several fines is refused naming input.amount', async () => {
  const ids = await givenFines(db(), inst, await patron(), 2, '5.00');
  const before = await state();
  const res = await waive({ fineIds: ids, amount: '1.00' });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.amount' });
  expect(await state()).toEqual(before);
});

test('R7.4 an amount with the filter form is refused naming input.amount', async () => {
  const res = await waive({ filter: { userId: await patron() }, amount: '1.00' });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.amount' });
});

test('R7.2 a zero or negative waive amount is refused naming input.amount', async () => {
  const id = await givenFine(db(), inst, await patron(), '5.00');
  for (const amount of ['0', '-1.00']) {
    const res = await waive({ fineIds: [id], amount });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.amount' });
  }
  expect(await fineRow(db(), id)).toEqual({ remaining: '5.00', status: 'ACTIVE' });
});

test('R7.4 exactly one of fineIds and filter: neither, or both, is refused naming input', async () => {
  const userId = await patron();
  const id = await givenFine(db(), inst, userId, '5.00');
  for (const input of [{}, { fineIds: [id], filter: { userId } }]) {
    const res = await waive(input);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input' });
  }
});

test('R7.4 an empty list, a malformed id or a fine listed twice is refused naming the position', async () => {
  const id = await givenFine(db(), inst, await patron(), '5.00');
  const cases: [string[], string][] = [[[], 'input.fineIds'], [[id, 'nope'], 'input.fineIds[1]'], [[id, id.toUpperCase()], 'input.fineIds[1]']];
  for (const [fineIds, field] of cases) {
    const res = await waive({ fineIds });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  }
  expect(await fineRow(db(), id)).toEqual({ remaining: '5.00', status: 'ACTIVE' });
});

test('R4.5 the fines of a protected account cannot be waived, listed or by filter: FORBIDDEN, nothing changed', async () => {
  const userId = await createPatron(db(), inst, { primaryIdentifier: 'exl_waive_vendor' });
  const id = await givenFine(db(), inst, userId, '5.00');
  const before = await state();
  const listed = await waive({ fineIds: [id] });
  expect(listed.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'input.fineIds[0]', fineId: id });
  expect(listed.errors?.[0].message).toMatch(/protected account/);
  const filtered = await waive({ filter: { userId } });
  expect(filtered.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'input.filter.userId' });
  expect(await state()).toEqual(before);
});

test('R4.2 a Fulfillment Services Operator may not waive fines: FORBIDDEN, nothing changed', async () => {
  const id = await givenFine(db(), inst, await patron(), '5.00');
  const before = await state();
  const res = await waive({ fineIds: [id] }, tokens.fso);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await state()).toEqual(before);
});

test('R7.7 the ledger action, the history entry and the event record the waive: amount, reason, comment, balance before and after', async () => {
  const userId = await patron();
  const id = await givenFine(db(), inst, userId, '10.00');
  await waive({ fineIds: [id], amount: '2.50', reason: 'LIBRARY_ERROR', comment: '  wrong due date  ' });
  const [action] = await db().query(`SELECT amount::text, reason, comment, created_by FROM fine_fee_action WHERE fine_id = $1 AND action_type = 'WAIVE'`, [id]);
  expect(action).toEqual({ amount: '-2.50', reason: 'LIBRARY_ERROR', comment: 'wrong due date', created_by: 'um' });
  const [entry] = await db().query(`SELECT field, old_value, new_value, owner_library_id, changed_by FROM history_entry WHERE user_id = $1`, [userId]);
  expect(entry).toEqual({
    field: 'fines', old_value: 'OVERDUEFINE 10.00 ACTIVE', new_value: 'OVERDUEFINE 7.50 ACTIVE', owner_library_id: inst.libraries.MAIN.id, changed_by: 'um',
  });
  const [event] = await db().query(`SELECT aggregate_type, owner_library_id, payload FROM event_outbox WHERE event_type = 'FINE_WAIVED' AND aggregate_id = $1`, [id]);
  expect(event).toMatchObject({
    aggregate_type: 'FINE', owner_library_id: inst.libraries.MAIN.id,
    payload: { userId, fineId: id, amount: '2.50', remainingAmount: '7.50', status: 'ACTIVE', reason: 'LIBRARY_ERROR', comment: 'wrong due date' },
  });
});

/** Another connection's transaction, for holding row locks while a request runs. */
async function heldTransaction() {
  const runner = db().createQueryRunner();
  await runner.connect();
  await runner.startTransaction();
  return {
    ended: false,
    query: (sql: string, params: unknown[] = []) => runner.query(sql, params),
    async end(commit: boolean) {
      this.ended = true;
      try {
        if (commit) await runner.commitTransaction();
        else await runner.rollbackTransaction();
      } finally {
        await runner.release();
      }
    },
  };
}

const BLOCKED = 'still waiting after 5 s: blocked on a row lock';
const within5s = <T>(p: Promise<T>) => Promise.race([p, new Promise<typeof BLOCKED>((resolve) => setTimeout(() => resolve(BLOCKED), 5000).unref())]);

test('R5.2 a waive naming another library\'s fine locks nothing of it: while that fine is locked elsewhere, it answers NOT_FOUND at once', async () => {
  const userId = await patron();
  const main = await givenFine(db(), inst, userId, '4.00', { owner: 'MAIN' });
  const law = await givenFine(db(), inst, userId, '4.00', { owner: 'LAW' });
  const before = await state();
  const holder = await heldTransaction();
  let request: ReturnType<typeof waive> | undefined;
  try {
    await holder.query(`SELECT id FROM fine_fee WHERE id = $1 FOR UPDATE`, [law]);
    // Had the waive tried to lock the Law fine, it would wait here until the holder ends.
    request = waive({ fineIds: [main, law] }, tokens.circ_main);
    const outcome = await within5s(request);
    expect(outcome).not.toBe(BLOCKED);
    expect((outcome as Awaited<typeof request>).errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'input.fineIds[1]', fineId: law });
  } finally {
    await holder.end(false);
    await request;
  }
  expect(await state()).toEqual(before);
});

test('R7.4 a fine the filter chose that is paid before the waive can lock it refuses the waive whole, naming the fine', async () => {
  const userId = await patron();
  const [first, second] = (await givenFines(db(), inst, userId, 2, '2.00')).sort();
  const holder = await heldTransaction();
  let request: ReturnType<typeof waive> | undefined;
  try {
    await holder.query(`SELECT id FROM fine_fee WHERE id = $1 FOR UPDATE`, [second]);
    request = waive({ filter: { userId } });
    // Once the waive waits for the second fine's lock, a payment closes that fine and commits.
    const deadline = Date.now() + 5000;
    for (;;) {
      const [{ waiting }] = await db().query(
        `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
      if (waiting > 0) break;
      if (Date.now() > deadline) throw new Error('the waive never waited for the locked fine');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await holder.query(`UPDATE fine_fee SET remaining_amount = 0, paid_amount = paid_amount + 2.00, status = 'CLOSED', status_date = now() WHERE id = $1`, [second]);
    await holder.query(`INSERT INTO fine_fee_action (institution_id, fine_id, action_type, amount, payment_method, created_by) VALUES ($1, $2, 'PAY', -2.00, 'CASH', 'test')`,
      [inst.id, second]);
    await holder.end(true);
  } catch (e) {
    if (!holder.ended) await holder.end(false);
    throw e;
  } finally {
    await request;
  }
  const res = await request!;
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.filter', fineId: second });
  expect(res.errors?.[0].message).toMatch(/CLOSED/);
  expect(await fineRow(db(), first)).toEqual({ remaining: '2.00', status: 'ACTIVE' });
});
