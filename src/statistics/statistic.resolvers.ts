import type { Resolvers } from '../generated/graphql';
import { addStatistic, removeStatistic, updateStatistic } from './statistic.service';

export const statisticResolvers: Resolvers = {
  Mutation: {
    addStatistic: (_parent, { userId, input }, ctx) => addStatistic(ctx, userId, input),
    updateStatistic: (_parent, { id, input }, ctx) => updateStatistic(ctx, id, input),
    removeStatistic: (_parent, { id }, ctx) => removeStatistic(ctx, id),
  },
  User: {
    statistics: (user, _args, ctx) => ctx.loaders.statisticsByUser.load(user.id),
  },
  Statistic: {
    owner: (s) => ({ libraryId: s.ownerLibraryId }),
    external: (s) => s.isExternal,
  },
};
