import { connectionOf, pageSize } from '../common/connection';
import { CursorOrder, decodeCursor, encodeCursor } from '../common/cursor';
import { badInput } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { RequestContext } from '../context';
import type { HistoryEntry } from '../db/entities';
import { countConfigurationHistory, findConfigurationHistory } from './history.repository';

const MAX_PAGE = 100;

/** Both lists are newest first by the bigserial id alone; a cursor of one list is refused by the other. */
const USER_HISTORY: CursorOrder = { name: 'USER_HISTORY', key: 'none', id: 'bigint' };
const PERMISSION_HISTORY: CursorOrder = { name: 'PERMISSION_HISTORY', key: 'none', id: 'bigint' };

/** The id before which the page starts, from the `after` argument. */
const beforeIdOf = (after: string | null | undefined, order: CursorOrder): string | null => (after ? decodeCursor(after, 'after', order).id : null);

export type HistoryPage = ReturnType<typeof toConnection>;

/** A page of entries (fetched with one extra row) as a Relay connection. */
function toConnection(rows: HistoryEntry[], first: number, order: CursorOrder, totalCount: () => Promise<number>) {
  return { ...connectionOf(rows, first, (entry) => encodeCursor(order, { key: null, id: entry.id })), totalCount };
}

/**
 * A page of a user's history (R9), newest first, filtered by the operator's
 * owner scope in SQL (R5.2), by the user's id: `User.history` and
 * `userHistory` (which outlives a deleted user) share it. The loaders read
 * the operator's institution only, so another institution's user has no
 * history here. Pages load through a DataLoader, so a list of users with
 * their history costs one statement, not one per user.
 */
export async function getUserHistory(ctx: RequestContext, userId: string, args: { first?: number | null; after?: string | null }) {
  ctx.policy.assert('user.read');
  if (!isUuid(userId)) throw badInput('userId', 'Not a user id');
  const first = pageSize(args.first, MAX_PAGE);
  const beforeId = beforeIdOf(args.after, USER_HISTORY);
  const rows = await ctx.loaders.historyPage(first, beforeId).load(userId);
  return toConnection(rows, first, USER_HISTORY, async () => (await ctx.loaders.historyCountByUser.load(userId)).count);
}

/** Changes to role profiles and role assignment rules, newest first: who changed which powers a profile or rule gives. */
export async function getConfigurationHistory(ctx: RequestContext, args: { first?: number | null; after?: string | null }) {
  const operator = ctx.policy.assert('user.read');
  const first = pageSize(args.first, MAX_PAGE);
  const beforeId = beforeIdOf(args.after, PERMISSION_HISTORY);
  const rows = await findConfigurationHistory(ctx.db.manager, operator.institutionId, first, beforeId);
  return toConnection(rows, first, PERMISSION_HISTORY, () => countConfigurationHistory(ctx.db.manager, operator.institutionId));
}
