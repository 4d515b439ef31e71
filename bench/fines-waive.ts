/**
 * `npm run bench:fines`: waiveFines of 100 fines per call, over HTTP, against
 * the real server in this process and a fresh database of its own.
 *
 * Prints calls per second (median of several sequential runs, and with
 * several clients at once on disjoint fines), p50/p95 latency, and the SQL
 * statements one call costs for 1, 10 and 100 fines (it must not grow with
 * the number of fines), then checks that every balance equals its ledger and
 * drops the database.
 *
 * The database: a new one on the server of BENCH_ADMIN_URL, else of
 * DATABASE_URL, else postgres://postgres@127.0.0.1:5432; when none answers, an
 * embedded PostgreSQL in a temporary folder. Sizes: BENCH_PATRONS (as many
 * as the calls need, each with 100 fines), BENCH_RUNS (5), BENCH_CALLS (20 per run), BENCH_CONCURRENCY (4).
 */
import 'reflect-metadata';
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import { hashPassword } from '../src/auth/password';
import { createTokenIssuer } from '../src/auth/tokens';
import { sqlStatementCount } from '../src/db/sql-logger';
import { findLedgerMismatches } from '../src/fines/ledger.repository';
import { openFreshDatabase } from './fresh-database';
import { graphql, LOGIN } from './support/load';
import { createServer } from '../src/server';

const int = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const FINES_PER_CALL = 100;
const RUNS = int('BENCH_RUNS', 5);
const CALLS = int('BENCH_CALLS', 20);
const CONCURRENCY = int('BENCH_CONCURRENCY', 4);
const CONCURRENT_RUNS = 2;
const PER_WORKER = Math.max(1, Math.floor(CALLS / 2));
// One patron's 100 fines per call: warm-up (3), statement counts (5), the sequential runs and the concurrent ones.
const PATRONS = int('BENCH_PATRONS', 3 + 5 + RUNS * CALLS + CONCURRENT_RUNS * CONCURRENCY * PER_WORKER);
const PASSWORD = crypto.randomBytes(12).toString('base64url');

const log = (line: string) => console.log(`[bench:fines] ${line}`);

/** One institution, an operator allowed to waive, and PATRONS patrons with FINES_PER_CALL fines each (the ledger holding: a CREATE action per fine). */
async function seed(db: DataSource): Promise<{ institutionId: string; finesByPatron: string[][] }> {
  const [inst] = await db.query(`INSERT INTO institution (code, name) VALUES ('BENCH', 'Bench University') RETURNING id`);
  await db.query(`INSERT INTO library (institution_id, code, name) VALUES ($1, 'MAIN', 'Main library')`, [inst.id]);
  await db.query(`INSERT INTO code_value (institution_id, kind, code, description) VALUES ($1, 'WAIVE_REASON', 'GOODWILL', 'Goodwill gesture')`, [inst.id]);
  const [operator] = await db.query(
    `INSERT INTO app_user (institution_id, record_type, account_type, primary_identifier, first_name, last_name, password_hash, created_by, updated_by)
     VALUES ($1, 'STAFF', 'INTERNAL', 'bench_manager', 'Bench', 'Manager', $2, 'bench', 'bench') RETURNING id`,
    [inst.id, await hashPassword(PASSWORD)],
  );
  await db.query(`INSERT INTO role_assignment (institution_id, user_id, role_type, scope_type, created_by) VALUES ($1, $2, 'USER_MANAGER', 'INSTITUTION', 'bench')`,
    [inst.id, operator.id]);
  const patrons: { id: string }[] = await db.query(
    `INSERT INTO app_user (institution_id, record_type, account_type, primary_identifier, first_name, last_name, created_by, updated_by)
     SELECT $1, 'PUBLIC', 'INTERNAL', 'patron' || g, 'Pat', 'Patron ' || g, 'bench', 'bench' FROM generate_series(1, $2::int) g RETURNING id`,
    [inst.id, PATRONS],
  );
  const ids = patrons.map((p) => p.id);
  await db.query(`INSERT INTO role_assignment (institution_id, user_id, role_type, scope_type, created_by) SELECT $1, u, 'PATRON', 'INSTITUTION', 'bench' FROM unnest($2::uuid[]) u`,
    [inst.id, ids]);
  const fines: { id: string; user_id: string }[] = await db.query(
    `INSERT INTO fine_fee (institution_id, user_id, fine_type, original_amount, remaining_amount, created_by)
     SELECT $1, u, 'OVERDUEFINE', a, a, 'bench' FROM unnest($2::uuid[]) u, generate_series(1, $3::int) g, LATERAL (SELECT (g % 40 + 1) * 0.25 AS a) x
     RETURNING id, user_id`,
    [inst.id, ids, FINES_PER_CALL],
  );
  await db.query(`INSERT INTO fine_fee_action (institution_id, fine_id, action_type, amount, created_by)
                  SELECT institution_id, id, 'CREATE', original_amount, 'bench' FROM fine_fee WHERE institution_id = $1`, [inst.id]);
  await db.query('ANALYZE');
  const byPatron = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const f of fines) byPatron.get(f.user_id)!.push(f.id);
  return { institutionId: inst.id, finesByPatron: [...byPatron.values()] };
}

const WAIVE = `mutation($in: WaiveFinesInput!) { waiveFines(input: $in) { count waivedTotal } }`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function main(): Promise<void> {
  const started = performance.now();
  const { database, dispose } = await openFreshDatabase(log);
  const db = database.dataSource;
  const server = await createServer({ db, tokens: createTokenIssuer(crypto.randomBytes(32).toString('hex'), 3600), production: true });
  try {
    const port = await server.listen(0);
    const t0 = performance.now();
    const { institutionId, finesByPatron } = await seed(db);
    log(`seeded ${PATRONS} patrons with ${PATRONS * FINES_PER_CALL} fines in ${ms(performance.now() - t0)}`);

    const post = (query: string, variables: Record<string, unknown>, token?: string) => graphql(port, query, variables, token);
    const token: string = (await post(LOGIN, { i: 'bench_manager', p: PASSWORD })).login.token;

    const unused = [...finesByPatron];
    const take = () => {
      const next = unused.shift();
      if (!next) throw new Error('out of seeded fines: raise BENCH_PATRONS');
      return next;
    };
    const waived: string[] = [];
    const waive = async (fineIds: string[]) => {
      waived.push(...fineIds);
      const t = performance.now();
      const data = await post(WAIVE, { in: { fineIds, reason: 'GOODWILL' } }, token);
      if (data.waiveFines.count !== fineIds.length) throw new Error(`waived ${data.waiveFines.count} of ${fineIds.length}`);
      return performance.now() - t;
    };
    const counted = async (work: () => Promise<unknown>) => {
      const before = sqlStatementCount();
      await work();
      return sqlStatementCount() - before;
    };

    // Warm-up: compiled statements, connection pool, JIT.
    for (let i = 0; i < 3; i++) await waive(take());

    const statements = {
      one: await counted(() => waive(take().slice(0, 1))),
      ten: await counted(() => waive(take().slice(0, 10))),
      hundred: await counted(() => waive(take())),
      filter10: await (async () => {
        const ids = take().slice(0, 10);
        waived.push(...ids);
        const [{ user_id: userId }] = await db.query(`SELECT user_id FROM fine_fee WHERE id = $1`, [ids[0]]);
        // Leave 10 of the patron's 100 fines ACTIVE, so the filter matches 10 (transferred fines never match).
        await db.query(`UPDATE fine_fee SET status = 'TRANSFERRED' WHERE user_id = $1 AND NOT (id = ANY($2::uuid[]))`, [userId, ids]);
        return counted(() => post(WAIVE, { in: { filter: { userId }, reason: 'GOODWILL' } }, token));
      })(),
      filter100: await (async () => {
        const ids = take();
        waived.push(...ids);
        const [{ user_id: userId }] = await db.query(`SELECT user_id FROM fine_fee WHERE id = $1`, [ids[0]]);
        return counted(() => post(WAIVE, { in: { filter: { userId }, reason: 'GOODWILL' } }, token));
      })(),
    };

    const latencies: number[] = [];
    const rates: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const batches = Array.from({ length: CALLS }, take);
      const t = performance.now();
      for (const batch of batches) latencies.push(await waive(batch));
      rates.push(CALLS / ((performance.now() - t) / 1000));
    }
    latencies.sort((a, b) => a - b);

    const concurrentRates: number[] = [];
    for (let run = 0; run < CONCURRENT_RUNS; run++) {
      const work = Array.from({ length: CONCURRENCY }, () => Array.from({ length: PER_WORKER }, take));
      const t = performance.now();
      await Promise.all(work.map(async (batches) => { for (const b of batches) await waive(b); }));
      concurrentRates.push((CONCURRENCY * PER_WORKER) / ((performance.now() - t) / 1000));
    }

    const mismatches = await findLedgerMismatches(db.manager, institutionId);
    const [{ active }] = await db.query(
      `SELECT count(*)::int AS active FROM fine_fee WHERE institution_id = $1 AND status <> 'CLOSED' AND id = ANY($2::uuid[])`,
      [institutionId, waived],
    );

    console.log('');
    console.log(`waiveFines, ${FINES_PER_CALL} fines per call, over HTTP (${RUNS} runs of ${CALLS} sequential calls)`);
    console.log(`  calls/s, sequential (median of ${RUNS} runs): ${median(rates).toFixed(1)}  (${(median(rates) * FINES_PER_CALL).toFixed(0)} fines/s; runs: ${rates.map((r) => r.toFixed(1)).join(', ')})`);
    console.log(`  latency per call: p50 ${ms(percentile(latencies, 50))}, p95 ${ms(percentile(latencies, 95))}, max ${ms(latencies[latencies.length - 1])}`);
    console.log(`  calls/s, ${CONCURRENCY} clients at once on disjoint fines (median of ${CONCURRENT_RUNS} runs): ${median(concurrentRates).toFixed(1)}`);
    console.log('  SQL statements per request (authentication and BEGIN/COMMIT included):');
    console.log(`    fineIds: 1 fine -> ${statements.one}, 10 fines -> ${statements.ten}, 100 fines -> ${statements.hundred}`);
    console.log(`    filter:  10 matching -> ${statements.filter10}, 100 matching -> ${statements.filter100}`);
    console.log(`  ledger mismatches: ${mismatches.length}; waived fines not CLOSED: ${active} of ${waived.length}`);
    console.log(`  total time: ${ms(performance.now() - started)}`);

    const constant = statements.one === statements.hundred && statements.ten === statements.hundred && statements.filter10 === statements.filter100;
    if (mismatches.length > 0 || active > 0 || !constant) {
      console.error('[bench:fines] FAILED: ' + (!constant ? 'statements per call grow with the number of fines' : 'a balance differs from its ledger, or a waived fine is not CLOSED'));
      process.exitCode = 1;
    }
  } finally {
    await server.stop();
    await dispose();
  }
}

main().catch((e) => {
  console.error('[bench:fines] failed:', e instanceof Error ? e.stack : e);
  process.exitCode = 1;
});
