import { badInput } from '../common/errors';
import type { RequestContext } from '../context';
import type { HistoryEntry, User } from '../db/entities';
import { countConfigurationHistory, findConfigurationHistory } from './history.repository';

const MAX_PAGE = 100;

/** Opaque cursors over the bigserial id: base64url of `h:<id>`. */
const encodeCursor = (id: string): string => Buffer.from(`h:${id}`).toString('base64url');

function decodeCursor(text: string): string {
  const id = /^h:(\d{1,18})$/.exec(Buffer.from(text, 'base64url').toString('utf8'))?.[1];
  if (!id) throw badInput('after', 'The cursor is not valid: use an endCursor returned by this API');
  return id;
}

export type HistoryPage = ReturnType<typeof toConnection>;

function pageSize(first: number | null | undefined): number {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) throw badInput('first', `first must be between 1 and ${MAX_PAGE}`);
  return size;
}

/** A page of entries (fetched with one extra row) as a Relay connection. */
function toConnection(rows: HistoryEntry[], first: number, totalCount: () => Promise<number>) {
  const edges = rows.slice(0, first).map((entry) => ({ cursor: encodeCursor(entry.id), node: entry }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    totalCount,
  };
}

/**
 * A page of a user's history (R9), newest first, filtered by the operator's
 * owner scope in SQL (R5.2). The user was already reached through a read the
 * policy allowed. Pages load through a DataLoader, so a list of users with
 * their history costs one statement, not one per user.
 */
export async function getUserHistory(ctx: RequestContext, user: User, args: { first?: number | null; after?: string | null }) {
  ctx.policy.assert('user.read');
  const first = pageSize(args.first);
  const beforeId = args.after ? decodeCursor(args.after) : null;
  const rows = await ctx.loaders.historyPage(first, beforeId).load(user.id);
  return toConnection(rows, first, async () => (await ctx.loaders.historyCountByUser.load(user.id)).count);
}

/** Changes to role profiles and role assignment rules, newest first: who changed which powers a profile or rule gives. */
export async function getConfigurationHistory(ctx: RequestContext, args: { first?: number | null; after?: string | null }) {
  const operator = ctx.policy.assert('user.read');
  const first = pageSize(args.first);
  const beforeId = args.after ? decodeCursor(args.after) : null;
  const rows = await findConfigurationHistory(ctx.db.manager, operator.institutionId, first, beforeId);
  return toConnection(rows, first, () => countConfigurationHistory(ctx.db.manager, operator.institutionId));
}
