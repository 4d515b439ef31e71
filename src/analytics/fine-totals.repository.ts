import type { DataSource, EntityManager } from 'typeorm';
import { DeltaTable, scheduleDeltaFold } from '../db/delta-fold';
import { queryPrepared, sqlParams, SqlParams } from '../db/prepared';
import type { FineActionsFilter, FineDimension, FinesFilter } from '../generated/graphql';
import type { OwnerScope } from '../policy/scope';
import { actionConditions } from './fine-actions-filter';
import { FINE_TOTALS, FineSource, FINES, fineConditions, totalsAnswer } from './fines-filter';
import { GROUP_ROWS_READ } from './group-by';

/**
 * Fines counted and summed by dimensions (issue 14), in one statement: from the totals the database keeps per key
 * (fine_total_delta, a few thousand rows) when they can answer the filter, else over the fines themselves; over the
 * matching fines' PAY or WAIVE actions when grouped by payment method or waive reason.
 */

/** A grouped row as read: the dimension values under their dimension's name, the count and the sums as decimal text. */
export interface FineTotalsRead {
  dimensions: Partial<Record<FineDimension, string | null>>;
  count: number;
  original: string | null;
  remaining: string | null;
  paid: string | null;
  waived: string | null;
}

const month = (source: FineSource) =>
  source === FINES ? `to_char(f.created_at AT TIME ZONE 'UTC', 'YYYY-MM')` : `to_char(d.created_month, 'YYYY-MM')`;

/** Each fine dimension's value in a source. */
const FINE_DIMENSIONS: Record<Exclude<FineDimension, 'WAIVE_REASON' | 'PAYMENT_METHOD'>, (source: FineSource) => string> = {
  OWNER: (s) => `${s.owner}::text`,
  FEE_TYPE: (s) => s.type,
  STATUS: (s) => s.status,
  MONTH_CREATED: month,
  USER_GROUP: (s) => s.userGroup,
};

/** The dimensions that turn the rows into sums of ledger actions, with the action type they sum. */
export const ACTION_DIMENSIONS = { WAIVE_REASON: { type: 'WAIVE', column: 'a.reason' }, PAYMENT_METHOD: { type: 'PAY', column: 'a.payment_method' } } as const;

/** A sum as decimal text with two places, 0.00 over no rows. */
export const money = (expression: string) => `coalesce(${expression}, 0)::numeric(20,2)::text`;

export interface FineTotalsRequest {
  institutionId: string;
  scope: OwnerScope;
  filter: FinesFilter;
  groupBy: FineDimension[];
  /** With an action dimension: which of the fines' actions count. */
  actionFilter?: FineActionsFilter | null;
}

/** The grouped rows, sorted by the dimensions in `groupBy` order (nulls last), at most GROUP_ROWS_READ of them. */
export async function groupFineTotals(db: EntityManager, req: FineTotalsRequest): Promise<FineTotalsRead[]> {
  const action = req.groupBy.map((d) => (d in ACTION_DIMENSIONS ? ACTION_DIMENSIONS[d as keyof typeof ACTION_DIMENSIONS] : null)).find(Boolean);
  const p = sqlParams();
  const { select, from, where, sums, having } = action
    ? actionSums(p, req, action.type)
    : totalsAnswer(req.filter) ? keptSums(p, req) : fineSums(p, req);
  const keys = req.groupBy.map((d, i) => `${d in ACTION_DIMENSIONS ? ACTION_DIMENSIONS[d as keyof typeof ACTION_DIMENSIONS].column : select(d)} AS "k${i}"`);
  const positions = keys.map((_, i) => String(i + 1));
  const rows = await queryPrepared<Record<string, unknown>>(db,
    `SELECT ${[...keys, sums].join(', ')}
       FROM ${from}
      WHERE ${where.join(' AND ')}
      ${positions.length > 0 ? `GROUP BY ${positions.join(', ')} ${having}` : ''}
      ${positions.length > 0 ? `ORDER BY ${positions.map((n) => `${n} NULLS LAST`).join(', ')}` : ''}
      LIMIT ${GROUP_ROWS_READ}`,
    p.values, true);
  return rows.map((row) => ({
    dimensions: Object.fromEntries(req.groupBy.map((d, i) => [d, row[`k${i}`] as string | null])),
    count: row.count as number,
    original: (row.original as string | undefined) ?? null,
    remaining: (row.remaining as string | undefined) ?? null,
    paid: (row.paid as string | undefined) ?? null,
    waived: (row.waived as string | undefined) ?? null,
  }));
}

interface SumsQuery {
  select(dimension: FineDimension): string;
  from: string;
  where: string[];
  sums: string;
  /** Drops groups whose deltas cancel out: keys no fine has any more. */
  having: string;
}

function keptSums(p: SqlParams, req: FineTotalsRequest): SumsQuery {
  return {
    select: (d) => FINE_DIMENSIONS[d as keyof typeof FINE_DIMENSIONS](FINE_TOTALS),
    from: 'fine_total_delta d',
    where: fineConditions(p, FINE_TOTALS, req.institutionId, req.scope, req.filter),
    sums: `coalesce(sum(d.n), 0)::int AS count, ${money('sum(d.original)')} AS original, ${money('sum(d.remaining)')} AS remaining,
           ${money('sum(d.paid)')} AS paid, ${money('sum(d.waived)')} AS waived`,
    having: 'HAVING sum(d.n) <> 0',
  };
}

function fineSums(p: SqlParams, req: FineTotalsRequest): SumsQuery {
  return {
    select: (d) => FINE_DIMENSIONS[d as keyof typeof FINE_DIMENSIONS](FINES),
    from: 'fine_fee f',
    where: fineConditions(p, FINES, req.institutionId, req.scope, req.filter),
    sums: `count(*)::int AS count, ${money('sum(f.original_amount)')} AS original, ${money('sum(f.remaining_amount)')} AS remaining,
           ${money('sum(f.paid_amount)')} AS paid, ${money('sum(f.waived_amount)')} AS waived`,
    having: '',
  };
}

function actionSums(p: SqlParams, req: FineTotalsRequest, type: 'PAY' | 'WAIVE'): SumsQuery {
  const sum = `${money('-sum(a.amount)')} AS ${type === 'PAY' ? 'paid' : 'waived'}`;
  return {
    select: (d) => FINE_DIMENSIONS[d as keyof typeof FINE_DIMENSIONS](FINES),
    from: 'fine_fee_action a JOIN fine_fee f ON f.id = a.fine_id',
    where: [
      ...fineConditions(p, FINES, req.institutionId, req.scope, req.filter),
      ...actionConditions(p, req.institutionId, req.scope, req.actionFilter ?? {}),
      `a.action_type = '${type}'`,
    ],
    sums: `count(*)::int AS count, ${sum}`,
    having: '',
  };
}

/**
 * Folds the kept totals into one row per key, dropping keys whose fines are all gone, in one statement (the reasoning
 * of compactUserCounts in src/users/user-counts.repository.ts holds here: writers only insert, a reader's snapshot sees
 * the deleted rows and their sums together or neither, and two concurrent folds each fold disjoint rows).
 */
export async function compactFineTotals(db: { query(text: string, params?: unknown[]): Promise<any> }): Promise<{ folded: number; kept: number }> {
  const key = 'institution_id, owner_library_id, fine_type, status, created_month, user_group, record_type, disputed';
  const [row] = await db.query(`
    WITH gone AS (
      DELETE FROM fine_total_delta
      RETURNING ${key}, n, original, remaining, paid, waived
    ), kept AS (
      INSERT INTO fine_total_delta (${key}, n, original, remaining, paid, waived)
      SELECT ${key}, sum(n), sum(original), sum(remaining), sum(paid), sum(waived)
      FROM gone
      GROUP BY ${key}
      HAVING sum(n) <> 0
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone)::int AS folded, (SELECT count(*) FROM kept)::int AS kept`);
  return row;
}

export const FINE_TOTALS_DELTAS: DeltaTable = { table: 'fine_total_delta', compact: compactFineTotals };

/** Compacts the kept fine totals every `everyMs` while the server runs; returns the stop function. */
export function scheduleFineTotalCompaction(db: DataSource, everyMs: number, log: (line: string) => void): () => void {
  return scheduleDeltaFold(db, FINE_TOTALS_DELTAS, 'fine total', everyMs, log);
}
