import type { Resolvers } from '../generated/graphql';

export const institutionResolvers: Resolvers = {
  CirculationDesk: {
    library: async (desk, _args, ctx) => (await ctx.loaders.libraryById.load(desk.libraryId))!,
  },
  Owner: {
    institution: (owner) => owner.libraryId === null,
    library: (owner, _args, ctx) => (owner.libraryId ? ctx.loaders.libraryById.load(owner.libraryId) : null),
  },
};
