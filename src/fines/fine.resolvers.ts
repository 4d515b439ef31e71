import type { Resolvers } from '../generated/graphql';

export const fineResolvers: Resolvers = {
  User: {
    fines: (user, { status }, ctx) => ctx.loaders.finesByUser(status ?? ['ACTIVE']).load(user.id),
  },
  Fine: {
    type: (f) => f.fineType,
    owner: (f) => ({ libraryId: f.ownerLibraryId }),
  },
};
