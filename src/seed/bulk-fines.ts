import { performance } from 'node:perf_hooks';
import type { DataSource, QueryRunner } from 'typeorm';
import { SEED_ACTOR } from './values';

export interface GenerateFinesOptions {
  institutionCode: string;
  count: number;
  /** Fines per transaction. */
  batchSize?: number;
  /**
   * Seed of PostgreSQL's random() for this run, so two runs over the same patrons draw the same mix (a benchmark
   * compares like with like). Fixed by default.
   */
  seed?: number;
  /**
   * Sessions generating side by side, each its share of the fines. PostgreSQL does nearly all the work (per-row
   * foreign-key checks and triggers, index inserts), one core per session.
   */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
  /** Stops between batches; committed batches stay. */
  signal?: AbortSignal;
}

export interface GenerateFinesResult {
  inserted: number;
  actions: number;
  ms: number;
}

const DEFAULT_BATCH_SIZE = 50_000;
const DEFAULT_SEED = 14;
const DEFAULT_WORKERS = 2;
/** How far back the fines go: they are spread over these days, the newest a day old. */
const SPAN_DAYS = 3 * 365;

/** What a session's fines draw from: the institution's codes, and how many patrons and fee types its temporary tables number. */
interface FineCodes {
  institutionId: string;
  libraryIds: string[];
  waiveReasons: string[];
  feeTypes: number;
  patrons: number;
}

/**
 * Adds `count` fines, with their ledgers, spread over the existing patrons of an institution, for load tests of the
 * analytics. PostgreSQL generates every row (INSERT ... SELECT over generate_series), a batch per transaction: Node
 * sends four statements per batch whatever its size. A million fines (1.6 million actions) took 207 s on one
 * session here, 111 s on two (2 cores, over 100,000 patrons).
 *
 * The fines are inserted as new (nothing paid, waived or disputed) and their actions after them, so the database's
 * own triggers fill in what they derive (FineAnalytics migration): the user's group and record type on the fine, its
 * paid and waived sums and disputed flag from the ledger, and the fine totals' deltas. Each fine's remaining amount
 * is the sum of its actions (R7.7).
 *
 * The mix: about 55% ACTIVE (three in ten of them partly paid), 5% IN_DISPUTE, 5% TRANSFERRED, 35% CLOSED (paid in
 * full, waived in full, or partly paid and the rest waived); amounts in quarters from 0.25 to 50.00, small ones more
 * often; creation dates over the last three years in insertion order, as a live table grows.
 */
export async function generateFines(dataSource: DataSource, opts: GenerateFinesOptions): Promise<GenerateFinesResult> {
  const started = performance.now();
  const batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH_SIZE);
  const workers = Math.max(1, Math.min(opts.workers ?? DEFAULT_WORKERS, Math.ceil(opts.count / batchSize)));
  const firstDay = new Date(Date.now() - (SPAN_DAYS + 1) * 86_400_000);
  // Ctrl-C, or a worker's failure, stops every worker after its current batch.
  const stop = new AbortController();
  const interrupted = () => stop.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', interrupted, { once: true });
  let done = 0;
  try {
    const runs = await Promise.allSettled(Array.from({ length: workers }, async (_, w) => {
      try {
        return await generateShare(dataSource, opts.institutionCode, {
          // Worker w makes the w-th slice of the run, so each appends to its own range of ids and creation times.
          from: Math.floor((w * opts.count) / workers), to: Math.floor(((w + 1) * opts.count) / workers), total: opts.count,
          batchSize, firstDay, seed: (opts.seed ?? DEFAULT_SEED) + w, signal: stop.signal,
          onBatch: (size) => {
            done += size;
            opts.onProgress?.(done, opts.count);
          },
        });
      } catch (e) {
        stop.abort(e);
        throw e;
      }
    }));
    const failed = runs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    // The planner's statistics and the visibility map for the readers: the ledger's trigger updated about half of
    // the fines once more, leaving as many dead rows.
    await dataSource.query(`VACUUM ANALYZE fine_fee, fine_fee_action, fine_total_delta`);
    const actions = runs.reduce((sum, r) => sum + (r.status === 'fulfilled' ? r.value : 0), 0);
    return { inserted: done, actions, ms: Math.round(performance.now() - started) };
  } finally {
    opts.signal?.removeEventListener('abort', interrupted);
  }
}

interface Share {
  /** The fines' positions in the whole run: [from, to) of total. */
  from: number;
  to: number;
  total: number;
  batchSize: number;
  firstDay: Date;
  seed: number;
  signal: AbortSignal;
  onBatch: (size: number) => void;
}

/** One worker's fines, a batch per transaction, on a session of its own (its temporary tables); returns how many actions it wrote. */
async function generateShare(dataSource: DataSource, institutionCode: string, share: Share): Promise<number> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    const codes = await prepare(runner, institutionCode);
    await runner.query(`SELECT setseed($1)`, [(share.seed % 1000) / 1000]);
    let actions = 0;
    for (let first = share.from; first < share.to; first += share.batchSize) {
      share.signal.throwIfAborted();
      const size = Math.min(share.batchSize, share.to - first);
      await runner.startTransaction();
      try {
        await runner.query(`TRUNCATE seed_fine_plan`);
        await planBatch(runner, codes, { first, size, total: share.total, firstDay: share.firstDay });
        await runner.query(INSERT_FINES, [codes.institutionId, SEED_ACTOR]);
        actions += await affected(runner, INSERT_ACTIONS, [codes.institutionId, SEED_ACTOR]);
        await runner.commitTransaction();
      } catch (e) {
        await runner.rollbackTransaction().catch(() => {});
        throw e;
      }
      share.onBatch(size);
    }
    return actions;
  } finally {
    await runner.query(`DROP TABLE IF EXISTS seed_patron, seed_fee_type, seed_fine_plan`).catch(() => {});
    await runner.release();
  }
}

/** How many rows a statement wrote. */
async function affected(runner: QueryRunner, sql: string, params: unknown[]): Promise<number> {
  return (await runner.query(sql, params, true)).affected ?? 0;
}

/**
 * Reads the institution's codes and numbers its patrons and fee types in temporary tables, so that a fine picks
 * them by joining on a random number. (Indexing a uuid[] parameter instead, `ids[1 + floor(random() * n)]`, copies
 * the whole array for every row: 215 s for a million fines over 100,000 patrons.) The libraries and waive reasons,
 * a handful each, stay arrays.
 */
async function prepare(runner: QueryRunner, institutionCode: string): Promise<FineCodes> {
  const [institution] = (await runner.query(`SELECT id FROM institution WHERE code = $1`, [institutionCode])) as { id: string }[];
  if (!institution) throw new Error(`institution ${institutionCode} not found`);
  const institutionId = institution.id;
  await runner.query(`DROP TABLE IF EXISTS seed_patron, seed_fee_type, seed_fine_plan`);
  await runner.query(`CREATE TEMP TABLE seed_patron (n int PRIMARY KEY, id uuid NOT NULL)`);
  // R7.1: only users holding the Patron role have fines.
  const patrons = await affected(
    runner,
    `INSERT INTO seed_patron
     SELECT row_number() OVER (ORDER BY u.id), u.id FROM app_user u
      WHERE u.institution_id = $1
        AND EXISTS (SELECT 1 FROM role_assignment r WHERE r.user_id = u.id AND r.role_type = 'PATRON' AND r.is_active)`,
    [institutionId],
  );
  if (patrons === 0) throw new Error(`institution ${institutionCode} has no patrons to fine`);
  await runner.query(`CREATE TEMP TABLE seed_fee_type (n int PRIMARY KEY, code text NOT NULL, allows_library_owner boolean NOT NULL, vat_rate numeric NOT NULL)`);
  const feeTypes = await affected(
    runner,
    `INSERT INTO seed_fee_type
     SELECT row_number() OVER (ORDER BY code), code, allows_library_owner, vat_rate FROM fine_fee_type
      WHERE institution_id = $1 AND NOT is_credit`,
    [institutionId],
  );
  if (feeTypes === 0) throw new Error(`institution ${institutionCode} has no fee types (other than credits)`);
  await runner.query(`ANALYZE seed_patron, seed_fee_type`);
  await runner.query(`
    CREATE TEMP TABLE seed_fine_plan (
      id uuid NOT NULL, user_id uuid NOT NULL, fine_type text NOT NULL, owner_library_id uuid, vat_rate numeric NOT NULL,
      quarters int NOT NULL, paid int NOT NULL, waived int NOT NULL, status text NOT NULL, item_barcode text,
      created_at timestamptz NOT NULL, acted_at timestamptz NOT NULL, later_at timestamptz NOT NULL,
      payment_method text NOT NULL, reason text)`);
  const libraries = (await runner.query(`SELECT id FROM library WHERE institution_id = $1 ORDER BY code`, [institutionId])) as { id: string }[];
  const reasons = (await runner.query(
    `SELECT code FROM code_value WHERE institution_id = $1 AND kind = 'WAIVE_REASON' ORDER BY code`,
    [institutionId],
  )) as { code: string }[];
  return { institutionId, libraryIds: libraries.map((l) => l.id), waiveReasons: reasons.map((r) => r.code), feeTypes, patrons };
}

/**
 * One batch's fines, each with what will happen to it, into seed_fine_plan. `draws` holds every random number a fine
 * needs (a CTE with random() is computed once, before the joins); the fine is the `first + g`-th of `total`, so its
 * creation time moves steadily from `firstDay` to a day ago across the whole run.
 */
async function planBatch(runner: QueryRunner, codes: FineCodes, batch: { first: number; size: number; total: number; firstDay: Date }): Promise<void> {
  await runner.query(
    `WITH draws AS (
       SELECT g, random() AS r_user, random() AS r_type, random() AS r_owner, random() AS r_library, random() AS r_amount,
              random() AS r_status, random() AS r_outcome, random() AS r_part, random() AS r_method, random() AS r_reason,
              random() AS r_created, random() AS r_acted, random() AS r_later, random() AS r_barcode
         FROM generate_series(1, $2::int) g
     ),
     fines AS (
       SELECT d.*, p.id AS user_id, t.code AS fine_type, t.vat_rate,
              CASE WHEN t.allows_library_owner AND cardinality($5::uuid[]) > 0 AND d.r_owner < 0.7
                   THEN ($5::uuid[])[1 + floor(d.r_library * cardinality($5::uuid[]))::int] END AS owner_library_id,
              1 + floor(200 * d.r_amount * d.r_amount)::int AS quarters,
              CASE WHEN d.r_status < 0.55 THEN 'ACTIVE' WHEN d.r_status < 0.60 THEN 'IN_DISPUTE'
                   WHEN d.r_status < 0.65 THEN 'TRANSFERRED' ELSE 'CLOSED' END AS status,
              $7::timestamptz + ($1::int + d.g - 1 + d.r_created) / $3::int * make_interval(days => ${SPAN_DAYS}) AS created_at
         FROM draws d
         JOIN seed_patron p ON p.n = 1 + floor(d.r_user * $4::int)::int
         JOIN seed_fee_type t ON t.n = 1 + floor(d.r_type * $8::int)::int
     ),
     outcomes AS (
       SELECT f.*,
              -- A part payment of 0 to quarters - 1 quarters (0: none, or a waive of the whole).
              CASE f.status
                WHEN 'ACTIVE' THEN CASE WHEN f.r_outcome < 0.3 THEN floor(f.r_part * f.quarters)::int ELSE 0 END
                WHEN 'CLOSED' THEN CASE WHEN cardinality($6::text[]) = 0 OR f.r_outcome < 0.6 THEN f.quarters
                                        WHEN f.r_outcome < 0.9 THEN 0
                                        ELSE floor(f.r_part * f.quarters)::int END
                ELSE 0 END AS paid,
              -- Its next action within four months, and the one after (a waive after a part payment) within two.
              f.created_at + interval '1 minute'
                + f.r_acted * least(greatest(now() - f.created_at - interval '2 minutes', interval '0'), interval '120 days') AS acted_at
         FROM fines f
     )
     INSERT INTO seed_fine_plan (id, user_id, fine_type, owner_library_id, vat_rate, quarters, paid, waived, status, item_barcode,
                                 created_at, acted_at, later_at, payment_method, reason)
     SELECT ${timeOrderedId('o.created_at')}, o.user_id, o.fine_type, o.owner_library_id, o.vat_rate, o.quarters, o.paid,
            CASE WHEN o.status = 'CLOSED' THEN o.quarters - o.paid ELSE 0 END,
            o.status,
            CASE WHEN o.r_barcode < 0.8 THEN 'I' || (100000000 + floor(o.r_barcode * 800000000))::bigint END,
            o.created_at, o.acted_at,
            o.acted_at + interval '1 minute'
              + o.r_later * least(greatest(now() - o.acted_at - interval '2 minutes', interval '0'), interval '60 days'),
            CASE WHEN o.r_method < 0.25 THEN 'CASH' WHEN o.r_method < 0.55 THEN 'CREDIT_CARD' ELSE 'ONLINE' END,
            ($6::text[])[1 + floor(o.r_reason * cardinality($6::text[]))::int]
       FROM outcomes o
      ORDER BY o.g`,
    [batch.first, batch.size, batch.total, codes.patrons, codes.libraryIds, codes.waiveReasons, batch.firstDay, codes.feeTypes],
  );
}

/**
 * A UUIDv7 (RFC 9562): the time `at` in milliseconds, then random bits. Ids in creation order make the inserts into
 * the indexes that end with the id (the primary keys, the amounts') appends rather than writes all over them: with
 * random ids a million fines and their ledgers took 338 s here, most of it reading and writing index pages in and out
 * of shared_buffers (128 MB), slower with every batch.
 */
function timeOrderedId(at: string): string {
  return `(lpad(to_hex((extract(epoch FROM ${at}) * 1000)::bigint), 12, '0') || '7' || substr(replace(gen_random_uuid()::text, '-', ''), 14))::uuid`;
}

/** The fines as new: the ledger's trigger adds what was paid and waived, and whether a dispute was raised. */
const INSERT_FINES = `
  INSERT INTO fine_fee (id, institution_id, user_id, fine_type, owner_library_id, original_amount, remaining_amount, vat_amount,
                        status, status_date, item_barcode, created_by, created_at, paid_amount, waived_amount, disputed)
  SELECT id, $1, user_id, fine_type, owner_library_id, quarters * 0.25, (quarters - paid - waived) * 0.25,
         round(quarters * 0.25 * vat_rate / 100, 2), status,
         -- The status changed with the last action; an ACTIVE fine's never did.
         CASE WHEN status = 'ACTIVE' THEN created_at WHEN paid > 0 AND waived > 0 THEN later_at ELSE acted_at END,
         item_barcode, $2, created_at,
         -- The sums of the ledger written next (R7.7), as the app writes them with each action.
         paid * 0.25, waived * 0.25, status = 'IN_DISPUTE'
    FROM seed_fine_plan`;

/** Every fine's ledger: CREATE with the original amount, then what the plan says (PAY and WAIVE negative). */
const INSERT_ACTIONS = `
  INSERT INTO fine_fee_action (id, institution_id, fine_id, action_type, amount, reason, payment_method, comment, created_by, created_at)
  SELECT ${timeOrderedId('a.at')}, $1, p.id, a.action_type, a.amount, a.reason, a.payment_method, a.comment, $2, a.at
    FROM seed_fine_plan p
   CROSS JOIN LATERAL (VALUES
     ('CREATE', p.quarters * 0.25, NULL, NULL, NULL, p.created_at, true),
     ('PAY', -p.paid * 0.25, NULL, p.payment_method, NULL, p.acted_at, p.paid > 0),
     ('WAIVE', -p.waived * 0.25, p.reason, NULL, NULL, CASE WHEN p.paid > 0 THEN p.later_at ELSE p.acted_at END, p.waived > 0),
     ('DISPUTE', 0, NULL, NULL, 'Patron says the item was returned on time', p.acted_at, p.status = 'IN_DISPUTE'),
     ('TRANSFER', 0, NULL, NULL, 'Exported to the bursar', p.acted_at, p.status = 'TRANSFERRED')
   ) AS a(action_type, amount, reason, payment_method, comment, at, present)
   WHERE a.present`;
