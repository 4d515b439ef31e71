import type { Resolvers } from '../generated/graphql';

export const noteResolvers: Resolvers = {
  User: {
    notes: (user, _args, ctx) => ctx.loaders.notesByUser.load(user.id),
  },
  Note: {
    type: (n) => n.noteType,
    owner: (n) => ({ libraryId: n.ownerLibraryId }),
    external: (n) => n.isExternal,
  },
};
