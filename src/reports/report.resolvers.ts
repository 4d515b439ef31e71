import type { Resolvers } from '../generated/graphql';
import { namedUsersReport } from './named-users.service';
import { staffLoginReport } from './staff-login.service';

export const reportResolvers: Resolvers = {
  Query: {
    namedUsersReport: (_parent, _args, ctx) => namedUsersReport(ctx),
    staffLoginReport: (_parent, args, ctx) => staffLoginReport(ctx, args),
  },
};
