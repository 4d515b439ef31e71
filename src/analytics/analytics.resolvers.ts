import type { Resolvers } from '../generated/graphql';
import { listFineActions, listFines, totalFines } from './fines-analytics.service';
import { countUsersBy } from './user-counts.service';

/** Analysts' reads across users (issue 14): thin, each a call to its service. */
export const analyticsResolvers: Resolvers = {
  Query: {
    fines: (_parent, args, ctx) => listFines(ctx, args),
    fineActions: (_parent, args, ctx) => listFineActions(ctx, args),
    fineTotals: (_parent, args, ctx) => totalFines(ctx, args),
    userCounts: (_parent, { filter, groupBy }, ctx) => countUsersBy(ctx, filter ?? {}, groupBy),
  },
  FineConnection: {
    totalCount: (page) => page.totalCount(),
    totals: (page) => page.totals(),
  },
  FineActionConnection: {
    totalCount: (page) => page.totalCount(),
    totals: (page) => page.totals(),
  },
};
