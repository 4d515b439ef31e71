import type { Resolvers } from '../generated/graphql';
import { countUsersBy } from './user-counts.service';

/** Analysts' reads across users (issue 14): thin, each a call to its service. */
export const analyticsResolvers: Resolvers = {
  Query: {
    userCounts: (_parent, { filter, groupBy }, ctx) => countUsersBy(ctx, filter ?? {}, groupBy),
  },
};
