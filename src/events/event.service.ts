import { badInput, cursorExpired } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { RequestContext } from '../context';
import type { EventFamily, EventFilter, EventType } from '../generated/graphql';
import { eventAudience, EventAudience } from '../policy/event-audience';
import type { Operator } from '../policy/operator';
import { comparePositions, decodeEventCursor, encodeEventCursor, EventPosition, ORIGIN } from './event-position';
import { openEventStream, StreamItem } from './event-stream';
import { EventView, viewOf } from './event-view';
import { EventSelection, readReleasedEvents, readStreamBounds } from './outbox.repository';

export const MAX_EVENTS_PAGE = 500;

export interface EventPage {
  edges: { cursor: string; node: EventView }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/**
 * Where `after` resumes: refused as CURSOR_EXPIRED when events after it have
 * been pruned (what it would resume from is gone), and as BAD_USER_INPUT when
 * it names a position no event can have yet (a forged cursor would otherwise
 * skip everything up to it, silently).
 */
async function resumePosition(ctx: RequestContext, after: string | null | undefined, field: string): Promise<EventPosition> {
  const bounds = await readStreamBounds(ctx.db.manager);
  if (after == null) return bounds.pruned;
  const position = decodeEventCursor(after, field);
  if (comparePositions(position, bounds.pruned) < 0) {
    throw cursorExpired(field, 'Events after this cursor are older than the retention period and were pruned: read the current state with queries, then subscribe (or read events) without a cursor');
  }
  if (position.xid >= bounds.horizon) throw badInput(field, 'The cursor is not valid: use a cursor returned by this API');
  return position;
}

/** A user id to filter on: a uuid, or BAD_USER_INPUT naming the argument (never a database error). */
function userIdFilter(userId: string | null | undefined, field: string): string | null {
  if (userId == null) return null;
  if (!isUuid(userId)) throw badInput(field, 'Not a user id');
  return userId;
}

/** The `events` query: a page of the events the operator may receive, oldest first. */
export async function readEvents(ctx: RequestContext, args: { after?: string | null; first?: number | null; filter?: EventFilter | null }): Promise<EventPage> {
  const operator = ctx.policy.assert('user.read');
  const userId = userIdFilter(args.filter?.userId, 'filter.userId');
  const first = args.first ?? 100;
  if (first < 1 || first > MAX_EVENTS_PAGE) throw badInput('first', `first must be between 1 and ${MAX_EVENTS_PAGE}`, { limit: MAX_EVENTS_PAGE });
  const after = await resumePosition(ctx, args.after, 'after');
  const selection: EventSelection = { families: args.filter?.families, types: args.filter?.types, userId };
  const read = await readReleasedEvents(ctx.db.manager, after, first + 1, { audience: eventAudience(ctx.policy, operator), selection });
  const rows = read.rows.slice(0, first);
  const edges = rows.map((row) => {
    const node = viewOf(row);
    return { cursor: node.cursor, node };
  });
  // An empty page ends where it started, so a poller keeps passing the same cursor until something happens.
  const endCursor = edges.length > 0 ? edges[edges.length - 1].cursor : args.after ?? (comparePositions(after, ORIGIN) === 0 ? null : encodeEventCursor(after));
  return {
    edges,
    pageInfo: { hasNextPage: read.rows.length > first, hasPreviousPage: false, startCursor: edges[0]?.cursor ?? null, endCursor },
  };
}

/** What each subscription root field delivers. */
export const SUBSCRIPTION_KINDS = {
  userChanged: { families: ['USER', 'NOTE', 'BLOCK', 'STATISTIC', 'ROLE'], usersOnly: true },
  fineChanged: { families: ['FINE'], usersOnly: false },
  blockOrNoteChanged: { families: ['BLOCK', 'NOTE'], usersOnly: false },
  roleChanged: { families: ['ROLE'], usersOnly: false },
} satisfies Record<string, { families: EventFamily[]; usersOnly: boolean }>;

/**
 * Opens a subscription's stream: the events of `kind` the operator may receive, filtered like a query (the
 * policy's audience, re-read whenever the connection re-reads its operator), replayed from `after` first.
 */
export async function subscribeToEvents(
  ctx: RequestContext,
  kind: keyof typeof SUBSCRIPTION_KINDS,
  args: { userId?: string | null; types?: readonly EventType[] | null; after?: string | null },
): Promise<AsyncIterableIterator<StreamItem>> {
  ctx.policy.assert('user.read');
  const userId = userIdFilter(args.userId, 'userId');
  const channel = ctx.subscription;
  if (!channel) throw badInput(kind, 'Subscriptions run over the graphql-ws protocol on this endpoint (see the README)');
  const after = args.after == null ? null : await resumePosition(ctx, args.after, 'after');
  let cached: { operator: Operator; audience: EventAudience } | null = null;
  const audience = () => {
    const operator = ctx.policy.authenticated();
    if (cached?.operator !== operator) cached = { operator, audience: eventAudience(ctx.policy, operator) };
    return cached.audience;
  };
  const { families, usersOnly } = SUBSCRIPTION_KINDS[kind];
  return openEventStream({
    db: ctx.db.manager,
    hub: channel.hub,
    audience,
    settling: channel.settling,
    selection: { families: families as EventFamily[], usersOnly, types: args.types, userId },
    after,
    bufferLimit: channel.bufferLimit,
    overflow: (waiting) => channel.close(4008, `Too slow: ${waiting} events waiting; resume with the last cursor`),
  });
}
