import type { DataSource, EntityManager } from 'typeorm';
import { DeltaTable, scheduleDeltaFold } from '../db/delta-fold';
import { queryPrepared, sqlParams, SqlParams } from '../db/prepared';
import type { FineActionsFilter, FineDimension, FinesFilter } from '../generated/graphql';
import type { OwnerScope } from '../policy/scope';
import { ACTION_TOTALS, ActionSource, ACTIONS, actionConditions, actionTotalsAnswer } from './fine-actions-filter';
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

/** The dimensions that turn the rows into sums of ledger actions, with the action type they sum and their column. */
export const ACTION_DIMENSIONS = {
  WAIVE_REASON: { type: 'WAIVE', column: (s: ActionSource) => s.reason },
  PAYMENT_METHOD: { type: 'PAY', column: (s: ActionSource) => s.method },
} as const;

/** The fine dimensions the ledger's kept totals carry (a fine's owner and fee type never change). */
const KEPT_WITH_ACTIONS: readonly FineDimension[] = ['OWNER', 'FEE_TYPE', 'WAIVE_REASON', 'PAYMENT_METHOD'];

/** The fines filter's conditions the ledger's kept totals can answer: those on the fine's owner and fee type. */
const ON_ACTIONS = new Set<keyof FinesFilter>(['ownerLibraryId', 'institutionOwned', 'feeType']);

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
    ? (keptActionsAnswer(req) ? keptActionSums(p, req, action.type) : actionSums(p, req, action.type))
    : totalsAnswer(req.filter) ? keptSums(p, req) : fineSums(p, req);
  const keys = req.groupBy.map((d, i) => `${select(d)} AS "k${i}"`);
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

/** Whether the ledger's kept totals can answer a grouping by an action dimension. */
function keptActionsAnswer(req: FineTotalsRequest): boolean {
  return req.groupBy.every((d) => KEPT_WITH_ACTIONS.includes(d)) && actionTotalsAnswer(req.actionFilter ?? {})
    && Object.entries(req.filter).every(([key, value]) => value == null || ON_ACTIONS.has(key as keyof FinesFilter));
}

/** The value of a dimension for an action in `source`; the fine's other attributes come from its row `f`. */
function actionDimension(source: ActionSource, d: FineDimension): string {
  if (d in ACTION_DIMENSIONS) return ACTION_DIMENSIONS[d as keyof typeof ACTION_DIMENSIONS].column(source);
  if (d === 'OWNER') return `${source.owner}::text`;
  if (d === 'FEE_TYPE') return source.type;
  return FINE_DIMENSIONS[d as keyof typeof FINE_DIMENSIONS](FINES);
}

/** The matching fines' actions of one type, counted one by one (joined to their fines for the fines filter). */
function actionSums(p: SqlParams, req: FineTotalsRequest, type: 'PAY' | 'WAIVE'): SumsQuery {
  return {
    select: (d) => actionDimension(ACTIONS, d),
    from: 'fine_fee_action a JOIN fine_fee f ON f.id = a.fine_id',
    where: [
      ...fineConditions(p, FINES, req.institutionId, req.scope, req.filter),
      ...actionConditions(p, ACTIONS, req.institutionId, req.scope, req.actionFilter ?? {}),
      `a.action_type = '${type}'`,
    ],
    sums: `count(*)::int AS count, ${money('-sum(a.amount)')} AS ${type === 'PAY' ? 'paid' : 'waived'}`,
    having: '',
  };
}

/** The same from the ledger's kept totals: the fines filter on owner and fee type applies to the actions' copies. */
function keptActionSums(p: SqlParams, req: FineTotalsRequest, type: 'PAY' | 'WAIVE'): SumsQuery {
  const { ownerLibraryId, institutionOwned, feeType } = req.filter;
  return {
    select: (d) => actionDimension(ACTION_TOTALS, d),
    from: 'fine_action_total_delta t',
    where: [
      ...actionConditions(p, ACTION_TOTALS, req.institutionId, req.scope, { ownerLibraryId, institutionOwned, feeType }),
      ...actionConditions(p, ACTION_TOTALS, req.institutionId, req.scope, req.actionFilter ?? {}),
      `t.action_type = '${type}'`,
    ],
    sums: `coalesce(sum(t.n), 0)::int AS count, ${money('-sum(t.amount)')} AS ${type === 'PAY' ? 'paid' : 'waived'}`,
    having: 'HAVING sum(t.n) <> 0',
  };
}

/**
 * Folds a table of kept totals into one row per key, dropping keys whose rows are all gone, in one statement (the
 * reasoning of compactUserCounts in src/users/user-counts.repository.ts holds here: writers only insert, a reader's
 * snapshot sees the deleted rows and their sums together or neither, and two concurrent folds each fold disjoint rows).
 */
function compactKept(table: string, key: string, sums: string[]): DeltaTable['compact'] {
  return async (db) => {
    const [row] = await db.query(`
      WITH gone AS (
        DELETE FROM ${table}
        RETURNING ${key}, ${sums.join(', ')}
      ), kept AS (
        INSERT INTO ${table} (${key}, ${sums.join(', ')})
        SELECT ${key}, ${sums.map((c) => `sum(${c})`).join(', ')}
        FROM gone
        GROUP BY ${key}
        HAVING sum(n) <> 0
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM gone)::int AS folded, (SELECT count(*) FROM kept)::int AS kept`);
    return row;
  };
}

export const compactFineTotals = compactKept('fine_total_delta',
  'institution_id, owner_library_id, fine_type, status, created_month, user_group, record_type, disputed', ['n', 'original', 'remaining', 'paid', 'waived']);
export const compactFineActionTotals = compactKept('fine_action_total_delta',
  'institution_id, owner_library_id, fine_type, action_type, reason, payment_method, action_month', ['n', 'amount']);

/** The kept totals of fines and of the ledger, folded by the same job. */
export const KEPT_FINE_TOTALS: DeltaTable[] = [
  { table: 'fine_total_delta', compact: compactFineTotals },
  { table: 'fine_action_total_delta', compact: compactFineActionTotals },
];

/** Compacts the kept fine and ledger totals every `everyMs` while the server runs; returns the stop function. */
export function scheduleFineTotalCompaction(db: DataSource, everyMs: number, log: (line: string) => void): () => void {
  const stops = KEPT_FINE_TOTALS.map((deltas) => scheduleDeltaFold(db, deltas, deltas.table.replace(/_delta$/, '').replace(/_/g, ' '), everyMs, log));
  return () => stops.forEach((stop) => stop());
}
