import type { Resolvers } from '../generated/graphql';
import { getDeleteUserPolicy, setDeleteUserPolicy } from './delete-user-policy.service';
import { deleteUser } from './delete-user.service';
import { runPurgeJob } from './purge-job';
import { purgeUser } from './purge-user.service';

export const lifecycleResolvers: Resolvers = {
  Query: {
    deleteUserPolicy: (_parent, _args, ctx) => getDeleteUserPolicy(ctx),
  },
  Mutation: {
    deleteUser: (_parent, { id }, ctx) => deleteUser(ctx, id),
    purgeUser: (_parent, { id }, ctx) => purgeUser(ctx, id),
    runPurgeJob: (_parent, { dryRun, graceDays }, ctx) => runPurgeJob(ctx, { dryRun, graceDays }),
    setDeleteUserPolicy: (_parent, { input }, ctx) => setDeleteUserPolicy(ctx, input),
  },
};
