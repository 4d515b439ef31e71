import { badInput } from '../common/errors';
import type { RequestContext } from '../context';
import type { HistoryEntry, User } from '../db/entities';

const MAX_PAGE = 100;

/** Opaque cursors over the bigserial id: base64url of `h:<id>`. */
const encodeCursor = (id: string): string => Buffer.from(`h:${id}`).toString('base64url');

function decodeCursor(text: string): string {
  const id = /^h:(\d{1,19})$/.exec(Buffer.from(text, 'base64url').toString('utf8'))?.[1];
  if (!id) throw badInput('after', 'The cursor is not valid: use an endCursor returned by this API');
  return id;
}

export type HistoryPage = Awaited<ReturnType<typeof getUserHistory>>;

/**
 * A page of a user's history (R9), newest first, filtered by the operator's
 * owner scope in SQL (R5.2). The user was already reached through a read the
 * policy allowed. Pages load through a DataLoader, so a list of users with
 * their history costs one statement, not one per user.
 */
export async function getUserHistory(ctx: RequestContext, user: User, args: { first?: number | null; after?: string | null }) {
  ctx.policy.authenticated();
  const first = args.first ?? 20;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badInput('first', `first must be between 1 and ${MAX_PAGE}`);
  const beforeId = args.after ? decodeCursor(args.after) : null;
  const rows = await ctx.loaders.historyPage(first, beforeId).load(user.id);
  const page: HistoryEntry[] = rows.slice(0, first);
  const edges = page.map((entry) => ({ cursor: encodeCursor(entry.id), node: entry }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    totalCount: async () => (await ctx.loaders.historyCountByUser.load(user.id)).count,
  };
}
