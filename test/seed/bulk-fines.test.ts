import { findLedgerMismatches } from '../../src/fines/ledger.repository';
import { generateFines } from '../../src/seed/bulk-fines';
import { parseArgs } from '../../src/seed/seed-cli';
import { configureFines } from '../fines/fine-fixtures';
import { createInstitution, createPatron, createPerson, InstitutionFixture } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * `npm run seed -- --fines M`: fines with their ledgers over an institution's patrons, written by PostgreSQL in
 * batches, the derived columns and the fine totals left to the database's triggers.
 */
const N = 3000;
const PATRONS = 40;

let app: TestApp;
let inst: InstitutionFixture;
let patronIds: string[];
let result: Awaited<ReturnType<typeof generateFines>>;

const query = (sql: string, params: unknown[] = []) => app.db.dataSource.query(sql, params);

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(app.db.dataSource, 'FINESEED');
  await configureFines(app.db.dataSource, inst);
  patronIds = [];
  for (let i = 0; i < PATRONS; i++) patronIds.push(await createPatron(app.db.dataSource, inst));
  // A group on some patrons, so the fines' copies of it and the totals keyed by it are exercised.
  await query(`UPDATE app_user SET user_group = 'UNDERGRAD' WHERE id = ANY($1::uuid[])`, [patronIds.slice(0, PATRONS / 2)]);
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'librarian', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  // Small batches over two workers: several transactions each.
  result = await generateFines(app.db.dataSource, { institutionCode: inst.code, count: N, batchSize: 700, workers: 2 });
});
afterAll(async () => {
  await app.close();
});

describe('generateFines', () => {
  test(`adds exactly ${N} fines, created by seed, each for a patron of the institution (R7.1)`, async () => {
    expect(result.inserted).toBe(N);
    const [row] = await query(
      `SELECT count(*)::int AS fines, count(*) FILTER (WHERE f.created_by = 'seed')::int AS by_seed,
              count(*) FILTER (WHERE f.user_id = ANY($2::uuid[]))::int AS for_patrons
         FROM fine_fee f WHERE f.institution_id = $1`,
      [inst.id, patronIds],
    );
    expect(row).toEqual({ fines: N, by_seed: N, for_patrons: N });
  });

  test('R7.7 every fine\'s remaining amount is the sum of its actions', async () => {
    expect(await findLedgerMismatches(app.db.dataSource.manager, inst.id)).toEqual([]);
  });

  test('every fine has one CREATE action for its original amount, at its creation, and its other actions come later', async () => {
    const [row] = await query(
      `SELECT count(*) FILTER (WHERE creates <> 1 OR created <> original OR first_at <> created_at)::int AS bad_create,
              count(*) FILTER (WHERE later_before)::int AS out_of_order,
              sum(actions)::int AS actions
         FROM (SELECT f.original_amount AS original, f.created_at,
                      count(*) FILTER (WHERE a.action_type = 'CREATE') AS creates,
                      sum(a.amount) FILTER (WHERE a.action_type = 'CREATE') AS created,
                      min(a.created_at) FILTER (WHERE a.action_type = 'CREATE') AS first_at,
                      bool_or(a.action_type <> 'CREATE' AND a.created_at <= f.created_at) AS later_before,
                      count(*) AS actions
                 FROM fine_fee f JOIN fine_fee_action a ON a.fine_id = f.id
                WHERE f.institution_id = $1 GROUP BY f.id) AS per_fine`,
      [inst.id],
    );
    expect(row).toEqual({ bad_create: 0, out_of_order: 0, actions: result.actions });
  });

  test('the fine\'s paid and waived amounts equal its PAY and WAIVE sums, and disputed marks a DISPUTE in its ledger', async () => {
    const rows = await query(
      `SELECT f.id FROM fine_fee f
         JOIN (SELECT fine_id, -coalesce(sum(amount) FILTER (WHERE action_type = 'PAY'), 0) AS paid,
                      -coalesce(sum(amount) FILTER (WHERE action_type = 'WAIVE'), 0) AS waived,
                      bool_or(action_type = 'DISPUTE') AS disputed
                 FROM fine_fee_action GROUP BY fine_id) l ON l.fine_id = f.id
        WHERE f.institution_id = $1
          AND (f.paid_amount <> l.paid OR f.waived_amount <> l.waived OR f.disputed <> l.disputed)`,
      [inst.id],
    );
    expect(rows).toEqual([]);
  });

  test('the fines copy their user\'s group and record type', async () => {
    const [row] = await query(
      `SELECT count(*)::int AS differ FROM fine_fee f JOIN app_user u ON u.id = f.user_id
        WHERE f.institution_id = $1 AND (f.user_group IS DISTINCT FROM u.user_group OR f.user_record_type <> u.record_type)`,
      [inst.id],
    );
    expect(row.differ).toBe(0);
  });

  test('the fine totals\' deltas sum to the fines\' count, original, remaining, paid and waived, key by key', async () => {
    const key = `owner_library_id, fine_type, status, user_group, disputed`;
    const sums = (from: string) => `SELECT ${key}, n::int, original::text, remaining::text, paid::text, waived::text FROM (${from}) s ORDER BY ${key}`;
    const fromDeltas = await query(sums(
      `SELECT ${key}, sum(n) AS n, sum(original) AS original, sum(remaining) AS remaining, sum(paid) AS paid, sum(waived) AS waived
         FROM fine_total_delta WHERE institution_id = $1 GROUP BY ${key} HAVING sum(n) <> 0`,
    ), [inst.id]);
    const fromFines = await query(sums(
      `SELECT ${key}, count(*) AS n, sum(original_amount) AS original, sum(remaining_amount) AS remaining, sum(paid_amount) AS paid,
              sum(waived_amount) AS waived
         FROM fine_fee WHERE institution_id = $1 GROUP BY ${key}`,
    ), [inst.id]);
    expect(fromDeltas.length).toBeGreaterThan(10);
    expect(fromDeltas).toEqual(fromFines);
  });

  test('the status mix: about 55% ACTIVE, 5% IN_DISPUTE, 5% TRANSFERRED, 35% CLOSED', async () => {
    const rows: { status: string; n: number }[] = await query(
      `SELECT status, count(*)::int AS n FROM fine_fee WHERE institution_id = $1 GROUP BY status`,
      [inst.id],
    );
    const share = Object.fromEntries(rows.map((r) => [r.status, r.n / N]));
    expect(share.ACTIVE).toBeGreaterThan(0.48);
    expect(share.ACTIVE).toBeLessThan(0.62);
    for (const status of ['IN_DISPUTE', 'TRANSFERRED']) {
      expect(share[status]).toBeGreaterThan(0.02);
      expect(share[status]).toBeLessThan(0.08);
    }
    expect(share.CLOSED).toBeGreaterThan(0.28);
    expect(share.CLOSED).toBeLessThan(0.42);
  });

  test('each status has its ledger: some ACTIVE fines partly paid; CLOSED ones paid or waived to 0.00, the status date their last action', async () => {
    const [row] = await query(
      `SELECT count(*) FILTER (WHERE f.status = 'ACTIVE' AND f.paid_amount > 0 AND f.remaining_amount > 0)::int AS partly_paid,
              count(*) FILTER (WHERE f.status = 'ACTIVE' AND (f.waived_amount > 0 OR f.status_date <> f.created_at))::int AS bad_active,
              count(*) FILTER (WHERE f.status = 'CLOSED' AND (f.remaining_amount <> 0 OR f.status_date <> last.at))::int AS bad_closed,
              count(*) FILTER (WHERE f.status = 'CLOSED' AND f.waived_amount = 0)::int AS paid_in_full,
              count(*) FILTER (WHERE f.status = 'CLOSED' AND f.paid_amount = 0)::int AS waived_in_full,
              count(*) FILTER (WHERE f.status = 'CLOSED' AND f.paid_amount > 0 AND f.waived_amount > 0)::int AS paid_and_waived,
              count(*) FILTER (WHERE f.status = 'IN_DISPUTE' AND (NOT f.disputed OR f.status_date <> last.at))::int AS bad_disputed,
              count(*) FILTER (WHERE f.status = 'TRANSFERRED' AND (last.type <> 'TRANSFER' OR f.remaining_amount = 0))::int AS bad_transferred
         FROM fine_fee f
         CROSS JOIN LATERAL (SELECT a.action_type AS type, a.created_at AS at FROM fine_fee_action a
                              WHERE a.fine_id = f.id ORDER BY a.created_at DESC LIMIT 1) AS last
        WHERE f.institution_id = $1`,
      [inst.id],
    );
    expect(row).toMatchObject({ bad_active: 0, bad_closed: 0, bad_disputed: 0, bad_transferred: 0 });
    for (const kind of ['partly_paid', 'paid_in_full', 'waived_in_full', 'paid_and_waived']) expect(row[kind]).toBeGreaterThan(0);
  });

  test('payments carry a method (R7.8), waives a configured reason (R7.4), disputes a comment (R7.5)', async () => {
    const [row] = await query(
      `SELECT count(*) FILTER (WHERE action_type = 'PAY' AND (payment_method IS NULL OR amount >= 0))::int AS bad_pay,
              count(*) FILTER (WHERE action_type = 'WAIVE' AND (reason IS NULL OR amount >= 0
                OR reason NOT IN (SELECT code FROM code_value WHERE institution_id = $1 AND kind = 'WAIVE_REASON')))::int AS bad_waive,
              count(*) FILTER (WHERE action_type = 'DISPUTE' AND comment IS NULL)::int AS bad_dispute,
              count(DISTINCT payment_method)::int AS methods, count(DISTINCT reason)::int AS reasons
         FROM fine_fee_action WHERE institution_id = $1`,
      [inst.id],
    );
    expect(row).toEqual({ bad_pay: 0, bad_waive: 0, bad_dispute: 0, methods: 3, reasons: 2 });
  });

  test('R7.2 a library owns only fines of a type that allows it, about 70% of those; amounts are quarters from 0.25 to 50.00', async () => {
    const [row] = await query(
      `SELECT count(*) FILTER (WHERE f.owner_library_id IS NOT NULL AND NOT t.allows_library_owner)::int AS wrongly_owned,
              (count(*) FILTER (WHERE f.owner_library_id IS NOT NULL)::float
                / nullif(count(*) FILTER (WHERE t.allows_library_owner), 0)) AS library_share,
              count(*) FILTER (WHERE t.is_credit)::int AS credits,
              count(*) FILTER (WHERE f.original_amount < 0.25 OR f.original_amount > 50 OR f.original_amount * 4 <> floor(f.original_amount * 4))::int AS bad_amounts
         FROM fine_fee f JOIN fine_fee_type t ON t.institution_id = f.institution_id AND t.code = f.fine_type
        WHERE f.institution_id = $1`,
      [inst.id],
    );
    expect(row).toMatchObject({ wrongly_owned: 0, credits: 0, bad_amounts: 0 });
    expect(row.library_share).toBeGreaterThan(0.6);
    expect(row.library_share).toBeLessThan(0.8);
  });

  test('creation dates spread over the last three years, and no action lies in the future', async () => {
    const [row] = await query(
      `SELECT (now() - min(created_at)) > interval '1000 days' AS old_enough, (now() - max(created_at)) < interval '30 days' AS recent,
              (SELECT max(created_at) FROM fine_fee_action WHERE institution_id = $1) <= now() AS past
         FROM fine_fee WHERE institution_id = $1`,
      [inst.id],
    );
    expect(row).toEqual({ old_enough: true, recent: true, past: true });
  });

  test('an institution without patrons is refused', async () => {
    const empty = await createInstitution(app.db.dataSource, 'NOPATRONS');
    await configureFines(app.db.dataSource, empty);
    await expect(generateFines(app.db.dataSource, { institutionCode: 'NOPATRONS', count: 10 })).rejects.toThrow('has no patrons');
  });
});

describe('parseArgs (npm run seed)', () => {
  test('--fines alone, --users alone, or both, with the default institution', () => {
    expect(parseArgs(['--fines', '1000'])).toEqual({ fines: 1000, institution: 'DEMO' });
    expect(parseArgs(['--users=50'])).toEqual({ users: 50, institution: 'DEMO' });
    expect(parseArgs(['--users', '10', '--fines=20', '--institution', 'X'])).toEqual({ users: 10, fines: 20, institution: 'X' });
  });

  test('neither --users nor --fines is refused', () => {
    expect(parseArgs([])).toBe('--users or --fines is required');
    expect(parseArgs(['--institution', 'X'])).toBe('--users or --fines is required');
  });

  test('--fines must be a positive integer', () => {
    expect(parseArgs(['--fines', '0'])).toBe('--fines must be a positive integer, got "0"');
    expect(parseArgs(['--fines=-5'])).toBe('--fines must be a positive integer, got "-5"');
    expect(parseArgs(['--fines', 'many'])).toBe('--fines must be a positive integer, got "many"');
    expect(parseArgs(['--fines'])).toBe('--fines needs a value');
  });
});
