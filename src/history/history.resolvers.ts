import type { Resolvers } from '../generated/graphql';
import { getUserHistory } from './history.service';

export const historyResolvers: Resolvers = {
  User: {
    history: (user, args, ctx) => getUserHistory(ctx, user, args),
  },
  HistoryConnection: {
    totalCount: (page) => page.totalCount(),
  },
};
