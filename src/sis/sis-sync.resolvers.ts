import type { Resolvers } from '../generated/graphql';
import { syncExternalUsers } from './sis-sync.service';

export const sisSyncResolvers: Resolvers = {
  Mutation: {
    syncExternalUsers: (_parent, { records, matchOn, externalOwner, dryRun }, ctx) =>
      syncExternalUsers(ctx, records, { matchOn, externalOwner, dryRun }),
  },
};
