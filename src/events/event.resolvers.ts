import type { RequestContext } from '../context';
import type { EventFamily, Resolvers } from '../generated/graphql';
import { readEvents, subscribeToEvents, SUBSCRIPTION_KINDS } from './event.service';
import type { StreamItem } from './event-stream';
import { changesOf, EventView, itemIdOf } from './event-view';

/** The user an event is about, as it is now: null once deleted (no row) or purged (a stub without personal data). */
async function currentUser(ctx: RequestContext, userId: string | null) {
  if (!userId) return null;
  const user = await ctx.loaders.userById.load(userId);
  return user && !user.purgedAt ? user : null;
}

const common = {
  cursor: (v: EventView) => v.cursor,
  type: (v: EventView) => v.row.eventType,
  family: (v: EventView) => v.row.family,
  at: (v: EventView) => v.row.createdAt,
  by: (v: EventView) => v.row.actor,
  changes: (v: EventView) => changesOf(v.row),
};

const TYPE_OF_FAMILY: Record<EventFamily, 'UserEvent' | 'FineEvent' | 'BlockOrNoteEvent' | 'RoleEvent' | 'ConfigurationEvent'> = {
  USER: 'UserEvent',
  STATISTIC: 'UserEvent',
  NOTE: 'BlockOrNoteEvent',
  BLOCK: 'BlockOrNoteEvent',
  FINE: 'FineEvent',
  ROLE: 'RoleEvent',
  API_KEY: 'ConfigurationEvent',
  INSTITUTION: 'ConfigurationEvent',
};

/** A subscription root field: its stream from the service, each event resolved as the field's type. */
const subscription = (kind: keyof typeof SUBSCRIPTION_KINDS) => ({
  subscribe: (_: unknown, args: Parameters<typeof subscribeToEvents>[2], ctx: RequestContext) => subscribeToEvents(ctx, kind, args),
  resolve: (item: StreamItem) => item.view,
});

export const eventResolvers: Resolvers = {
  Query: {
    events: (_, args, ctx) => readEvents(ctx, args),
  },
  Subscription: {
    userChanged: subscription('userChanged'),
    fineChanged: subscription('fineChanged'),
    blockOrNoteChanged: subscription('blockOrNoteChanged'),
    roleChanged: subscription('roleChanged'),
  },
  ChangeEvent: {
    __resolveType: (v) => TYPE_OF_FAMILY[v.row.family],
  },
  UserEvent: {
    ...common,
    userId: (v) => v.row.userId ?? v.row.aggregateId,
    user: (v, _, ctx) => currentUser(ctx, v.row.userId),
  },
  FineEvent: {
    ...common,
    fineId: (v) => v.row.aggregateId,
    userId: (v) => v.row.userId!,
    fine: (v, _, ctx) => ctx.loaders.fineById.load(v.row.aggregateId),
    user: (v, _, ctx) => currentUser(ctx, v.row.userId),
  },
  BlockOrNoteEvent: {
    ...common,
    itemId: (v) => itemIdOf(v.row),
    userId: (v) => v.row.userId!,
    block: (v, _, ctx) => (v.row.family === 'BLOCK' ? ctx.loaders.blockById.load(itemIdOf(v.row)) : null),
    note: (v, _, ctx) => (v.row.family === 'NOTE' ? ctx.loaders.noteById.load(itemIdOf(v.row)) : null),
    user: (v, _, ctx) => currentUser(ctx, v.row.userId),
  },
  RoleEvent: {
    ...common,
    subjectType: (v) => (v.row.aggregateType === 'ROLE_PROFILE' || v.row.aggregateType === 'ROLE_ASSIGNMENT_RULE' ? v.row.aggregateType : 'USER'),
    subjectId: (v) => v.row.aggregateId,
    user: (v, _, ctx) => currentUser(ctx, v.row.userId),
    roleProfile: (v, _, ctx) => (v.row.aggregateType === 'ROLE_PROFILE' ? ctx.loaders.profileById.load(v.row.aggregateId) : null),
  },
  ConfigurationEvent: {
    ...common,
    subjectId: (v) => v.row.aggregateId,
  },
};
