import type { EntityManager } from 'typeorm';
import type { CursorKeyType, CursorPosition } from '../common/cursor';
import { FineFee, FineFeeAction } from '../db/entities';
import { selectColumns } from '../db/plain-rows';
import { queryPrepared, sqlParams, SqlParams } from '../db/prepared';
import type { FineActionsFilter, FineActionSortField, FineSortField, FinesFilter, SortDirection } from '../generated/graphql';
import type { OwnerScope } from '../policy/scope';
import { ACTION_TOTALS, ACTIONS, actionConditions, actionTotalsAnswer } from './fine-actions-filter';
import { FINES, fineConditions } from './fines-filter';
import { money } from './fine-totals.repository';

/**
 * Pages of fines and of ledger actions across every user (issue 14), in keyset order, with the count and sums of the
 * whole filtered set. Each sort has an index leading with the institution (migration FineAnalytics), so a first page
 * reads about as many index entries as it returns.
 */

interface SortKey {
  column: string;
  key: Extract<CursorKeyType, 'timestamptz' | 'numeric'>;
}

export const FINE_SORTS: Record<FineSortField, SortKey> = {
  CREATED_AT: { column: 'f.created_at', key: 'timestamptz' },
  STATUS_DATE: { column: 'f.status_date', key: 'timestamptz' },
  ORIGINAL_AMOUNT: { column: 'f.original_amount', key: 'numeric' },
  REMAINING_AMOUNT: { column: 'f.remaining_amount', key: 'numeric' },
};

export const ACTION_SORTS: Record<FineActionSortField, SortKey> = {
  CREATED_AT: { column: 'a.created_at', key: 'timestamptz' },
  AMOUNT: { column: 'a.amount', key: 'numeric' },
};

/** The sort key as the cursor carries it: an instant to the microsecond in UTC, or the amount's text. */
const keyText = ({ column, key }: SortKey) =>
  (key === 'timestamptz' ? `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')` : `${column}::text`);

export interface PageRequest<F, S extends string> {
  institutionId: string;
  scope: OwnerScope;
  filter: F;
  sort: { field: S; direction: SortDirection };
  first: number;
  after: CursorPosition | null;
}

/** One page plus one row that tells whether another follows; each row carries its `sortKey`. */
async function keysetPage<T>(
  db: EntityManager, p: SqlParams, select: string, from: string, where: string[], sort: SortKey, id: string,
  req: PageRequest<unknown, string>,
): Promise<(T & { sortKey: string })[]> {
  const direction = req.sort.direction === 'ASC' ? 'ASC' : 'DESC';
  if (req.after) {
    where.push(`(${sort.column}, ${id}) ${direction === 'ASC' ? '>' : '<'} (${p.add(req.after.key)}::${sort.key}, ${p.add(req.after.id)}::uuid)`);
  }
  // Planned for its values: how many fines a filter keeps decides between walking the sort's index and sorting.
  return queryPrepared<T & { sortKey: string }>(db,
    `SELECT ${select}, ${keyText(sort)} AS "sortKey" FROM ${from} WHERE ${where.join(' AND ')}
      ORDER BY ${sort.column} ${direction}, ${id} ${direction} LIMIT ${p.add(req.first + 1)}`,
    p.values, true);
}

export function findFinePage(db: EntityManager, req: PageRequest<FinesFilter, FineSortField>): Promise<(FineFee & { sortKey: string })[]> {
  const p = sqlParams();
  return keysetPage<FineFee>(db, p, selectColumns(db, FineFee, 'f'), 'fine_fee f',
    fineConditions(p, FINES, req.institutionId, req.scope, req.filter), FINE_SORTS[req.sort.field], 'f.id', req);
}

export function findActionPage(db: EntityManager, req: PageRequest<FineActionsFilter, FineActionSortField>): Promise<(FineFeeAction & { sortKey: string })[]> {
  const p = sqlParams();
  return keysetPage<FineFeeAction>(db, p, selectColumns(db, FineFeeAction, 'a'), 'fine_fee_action a',
    actionConditions(p, ACTIONS, req.institutionId, req.scope, req.filter), ACTION_SORTS[req.sort.field], 'a.id', req);
}

export interface ActionTotals {
  count: number;
  amount: string;
  paid: string;
  waived: string;
}

/**
 * How many actions match and their sums, over every page: from the ledger's kept totals when they can answer the
 * filter, else over the actions.
 */
export async function sumActions(db: EntityManager, institutionId: string, scope: OwnerScope, filter: FineActionsFilter): Promise<ActionTotals> {
  const p = sqlParams();
  const [source, from, n] = actionTotalsAnswer(filter) ? [ACTION_TOTALS, 'fine_action_total_delta t', 't.n'] : [ACTIONS, 'fine_fee_action a', '1'];
  const amount = source === ACTIONS ? 'a.amount' : 't.amount';
  const [row] = await queryPrepared<ActionTotals>(db,
    `SELECT coalesce(sum(${n}), 0)::int AS count, ${money(`sum(${amount})`)} AS amount,
            ${money(`-sum(${amount}) FILTER (WHERE ${source.actionType} = 'PAY')`)} AS paid,
            ${money(`-sum(${amount}) FILTER (WHERE ${source.actionType} = 'WAIVE')`)} AS waived
       FROM ${from}
      WHERE ${actionConditions(p, source, institutionId, scope, filter).join(' AND ')}`,
    p.values, true);
  return row;
}
