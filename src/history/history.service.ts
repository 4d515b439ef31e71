import { badInput } from '../common/errors';
import type { RequestContext } from '../context';
import type { HistoryEntry, User } from '../db/entities';
import { ownerParam } from '../policy/scope';
import { countHistory, findHistoryPage } from './history.repository';

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
 * policy allowed. One statement per call, so it is refused on users reached
 * through a list (`inList`): a users page would otherwise cost one history
 * query per user.
 */
export async function getUserHistory(
  ctx: RequestContext,
  user: User,
  args: { first?: number | null; after?: string | null },
  inList: boolean,
) {
  const operator = ctx.policy.authenticated();
  if (inList) throw badInput('history', 'history is a detail-page field: ask for it through user(id:) or userByIdentifier, not on a list of users');
  const first = args.first ?? 20;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badInput('first', `first must be between 1 and ${MAX_PAGE}`);
  const beforeId = args.after ? decodeCursor(args.after) : null;
  const scope = { institutionId: operator.institutionId, userId: user.id, owners: ownerParam(ctx.policy.ownerScope()) };
  const rows = await findHistoryPage(ctx.db.manager, { ...scope, first, beforeId });
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
    totalCount: () => countHistory(ctx.db.manager, scope),
  };
}
