import { findLedgerMismatches } from '../../src/fines/ledger.repository';
import { Cents, fromCents, sumCents, toCents } from '../../src/fines/money';
import { createInstitution, createPatron, InstitutionFixture, loginOperators } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';
import { configureFines, givenFine, givenFines } from './fine-fixtures';

/**
 * Issue 5 item 8: operators acting on the same fines at once never overdraw
 * them. Many waives and payments are fired over HTTP in parallel at a few
 * fines; whatever order the database serialises them in, every fine's
 * balance must equal its ledger, stay within [0, original], be 0.00 exactly
 * when CLOSED, and the successful responses must account for every cent the
 * balances went down. No assertion depends on timing.
 */
let app: TestApp;
let inst: InstitutionFixture;
const tokens: Record<string, string> = {};

const WAIVE = `mutation($in: WaiveFinesInput!) { waiveFines(input: $in) { count waivedTotal fines { id remainingAmount status } } }`;
const PAY = `mutation($id: ID!, $in: PayInput!) { payFine(id: $id, input: $in) { id remainingAmount status } }`;

const db = () => app.db.dataSource;

/** A small seeded generator, so a failing run can be replayed exactly. */
function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)), pick: <T>(xs: T[]) => xs[Math.floor(next() * xs.length)] };
}

/** One request fired in the storm, and what a success of it takes off the balances. */
interface Outcome {
  kind: 'waive' | 'pay';
  res: GraphQLResponse;
  /** What the balances went down by if it succeeded. */
  decrease: () => Cents;
}

function waiveCall(input: Record<string, unknown>, token: string): Promise<Outcome> {
  return app.gql(WAIVE, { in: { reason: 'GOODWILL', ...input } }, token)
    .then((res) => ({ kind: 'waive' as const, res, decrease: () => toCents(res.data.waiveFines.waivedTotal) }));
}

function payCall(id: string, amount: Cents, token: string): Promise<Outcome> {
  return app.gql(PAY, { id, in: { amount: fromCents(amount), method: 'CASH' } }, token)
    .then((res) => ({ kind: 'pay' as const, res, decrease: () => amount }));
}

async function finesOf(ids: string[]): Promise<{ id: string; original: string; remaining: string; status: string }[]> {
  return db().query(
    `SELECT id, original_amount::text AS original, remaining_amount::text AS remaining, status FROM fine_fee WHERE id = ANY($1::uuid[]) ORDER BY id`, [ids]);
}

async function ledgerTotals(ids: string[]): Promise<Record<string, Cents>> {
  const rows: { action_type: string; total: string }[] = await db().query(
    `SELECT action_type, sum(amount)::text AS total FROM fine_fee_action WHERE fine_id = ANY($1::uuid[]) GROUP BY action_type`, [ids]);
  return Object.fromEntries(rows.map((r) => [r.action_type, toCents(r.total)]));
}

/** The invariants that must hold whatever order the requests ran in. */
async function expectConsistent(ids: string[], outcomes: Outcome[]) {
  expect(await findLedgerMismatches(db().manager, inst.id)).toEqual([]);
  const fines = await finesOf(ids);
  for (const f of fines) {
    const original = toCents(f.original);
    const remaining = toCents(f.remaining);
    if (original >= 0n) expect(remaining >= 0n && remaining <= original).toBe(true);
    else expect(remaining >= original && remaining <= 0n).toBe(true);
    expect(f.status === 'CLOSED').toBe(remaining === 0n && original > 0n);
  }
  // Only refusals the rules foresee: an amount above what is left by then, or a fine already CLOSED (never a deadlock or a 500).
  const failures = outcomes.filter((o) => o.res.errors);
  for (const f of failures) {
    expect(f.res.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fineId: expect.any(String) });
    expect(f.res.errors![0].message).toMatch(/left|CLOSED/);
  }
  const succeeded = outcomes.filter((o) => !o.res.errors);
  const decrease = sumCents(fines.map((f) => toCents(f.original) - toCents(f.remaining)));
  const waived = sumCents(succeeded.filter((o) => o.kind === 'waive').map((o) => o.decrease()));
  const paid = sumCents(succeeded.filter((o) => o.kind === 'pay').map((o) => o.decrease()));
  expect(fromCents(waived + paid)).toBe(fromCents(decrease));
  const ledger = await ledgerTotals(ids);
  expect(fromCents(-(ledger.WAIVE ?? 0n))).toBe(fromCents(waived));
  expect(fromCents(-(ledger.PAY ?? 0n))).toBe(fromCents(paid));
  return { failures: failures.length, succeeded: succeeded.length };
}

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await configureFines(db(), inst);
  Object.assign(tokens, await loginOperators(app, inst, {
    um: ['USER_MANAGER', 'INSTITUTION'],
    ua: ['USER_ADMINISTRATOR', 'INSTITUTION'],
    cdm_main: ['CIRCULATION_DESK_MANAGER', 'MAIN'],
    cdo_main: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
  }));
});
afterAll(() => app.close());

test('R7.4 R7.8 60 parallel partial and full waives and payments by four operators on 15 fines never overdraw a fine, and every cent is accounted for', async () => {
  const rng = prng(20261127);
  const patrons = [await createPatron(db(), inst), await createPatron(db(), inst), await createPatron(db(), inst)];
  const fines: { id: string; userId: string; cents: Cents }[] = [];
  for (const userId of patrons) {
    for (let i = 0; i < 5; i++) {
      const cents = BigInt(rng.int(500, 2500));
      fines.push({ id: await givenFine(db(), inst, userId, fromCents(cents), { owner: 'MAIN' }), userId, cents });
    }
  }
  // A credit per patron that the filter form must leave alone.
  const credits = await Promise.all(patrons.map((userId) => givenFine(db(), inst, userId, '-3.00', { owner: null })));
  const operators = Object.values(tokens);
  const calls: (() => Promise<Outcome>)[] = [];
  // Two partial requests per fine that together ask for more than the fine is: at least one of them must be refused.
  for (const f of fines) {
    const first = BigInt(rng.int(1, Number(f.cents) - 1));
    const second = f.cents - first + BigInt(rng.int(1, 300));
    calls.push(() => waiveCall({ fineIds: [f.id], amount: fromCents(first) }, rng.pick(operators)));
    calls.push(() => payCall(f.id, second, rng.pick(operators)));
  }
  for (let i = 0; i < 30; i++) {
    const f = rng.pick(fines);
    const roll = rng.int(1, 4);
    if (roll === 1) calls.push(() => waiveCall({ filter: { userId: f.userId, ownerLibraryId: inst.libraries.MAIN.id } }, rng.pick(operators)));
    else if (roll === 2) calls.push(() => waiveCall({ fineIds: [...new Set([f.id, rng.pick(fines).id, rng.pick(fines).id])] }, rng.pick(operators)));
    else if (roll === 3) calls.push(() => waiveCall({ fineIds: [f.id], amount: fromCents(BigInt(rng.int(1, 800))) }, rng.pick(operators)));
    else calls.push(() => payCall(f.id, BigInt(rng.int(1, 800)), rng.pick(operators)));
  }
  expect(calls).toHaveLength(60);

  const outcomes = await Promise.all(calls.map((call) => call()));

  const { failures, succeeded } = await expectConsistent([...fines.map((f) => f.id), ...credits], outcomes);
  expect(failures).toBeGreaterThanOrEqual(fines.length);
  expect(succeeded).toBeGreaterThan(0);
  for (const id of credits) expect(await finesOf([id])).toEqual([expect.objectContaining({ remaining: '-3.00', status: 'ACTIVE' })]);
});

test('R7.4 a waive of 100 fines racing 30 payments on the same fines leaves each fine either paid then waived to 0.00, or waived with the payment refused', async () => {
  const rng = prng(7);
  const userId = await createPatron(db(), inst);
  const ids = await givenFines(db(), inst, userId, 100, '5.00');
  // One payment each on 30 of the fines, never their whole 5.00: a payment that wins the race leaves something for the waive.
  const payments = ids.filter((_, i) => i % 3 === 0).slice(0, 30)
    .map((id) => () => payCall(id, BigInt(rng.int(1, 499)), rng.pick([tokens.cdm_main, tokens.cdo_main])));
  const outcomes = await Promise.all([
    ...payments.slice(0, 15).map((p) => p()),
    waiveCall({ fineIds: ids }, tokens.um),
    ...payments.slice(15).map((p) => p()),
  ]);
  const waive = outcomes.find((o) => o.kind === 'waive')!;
  expect(waive.res.errors).toBeUndefined();
  expect(waive.res.data.waiveFines.count).toBe(100);
  await expectConsistent(ids, outcomes);
  // The waive took whatever each fine had left when it got the lock: every fine ends CLOSED at 0.00.
  expect((await finesOf(ids)).every((f) => f.remaining === '0.00' && f.status === 'CLOSED')).toBe(true);
});
