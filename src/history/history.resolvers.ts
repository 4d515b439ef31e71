import type { Resolvers } from '../generated/graphql';
import { getConfigurationHistory, getUserHistory } from './history.service';

export const historyResolvers: Resolvers = {
  Query: {
    permissionHistory: (_parent, args, ctx) => getConfigurationHistory(ctx, args),
    userHistory: (_parent, { userId, ...args }, ctx) => getUserHistory(ctx, userId, args),
  },
  HistoryEntry: {
    subjectId: (entry) => (entry.subjectId ?? entry.userId)!,
  },
  User: {
    history: (user, args, ctx) => getUserHistory(ctx, user.id, args),
  },
  HistoryConnection: {
    totalCount: (page) => page.totalCount(),
  },
};
