import type { Resolvers } from '../generated/graphql';

export const fineResolvers: Resolvers = {
  Fine: {
    type: (f) => f.fineType,
    owner: (f) => ({ libraryId: f.ownerLibraryId }),
  },
};
