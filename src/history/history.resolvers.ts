import type { GraphQLResolveInfo } from 'graphql';
import type { Resolvers } from '../generated/graphql';
import { getUserHistory } from './history.service';

/** Whether the field sits under a list in the response (a list index in its path). */
function isInsideList(info: GraphQLResolveInfo): boolean {
  for (let p = info.path.prev; p; p = p.prev) if (typeof p.key === 'number') return true;
  return false;
}

export const historyResolvers: Resolvers = {
  User: {
    history: (user, args, ctx, info) => getUserHistory(ctx, user, args, isInsideList(info)),
  },
  HistoryConnection: {
    totalCount: (page) => page.totalCount(),
  },
};
