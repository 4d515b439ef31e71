import type { Resolvers } from '../generated/graphql';

export const statisticResolvers: Resolvers = {
  User: {
    statistics: (user, _args, ctx) => ctx.loaders.statisticsByUser.load(user.id),
  },
  Statistic: {
    owner: (s) => ({ libraryId: s.ownerLibraryId }),
    external: (s) => s.isExternal,
  },
};
