import type { Resolvers } from '../generated/graphql';
import { listLibraries } from './institution.service';

export const institutionResolvers: Resolvers = {
  Query: {
    libraries: (_parent, _args, ctx) => listLibraries(ctx),
  },
  Library: {
    desks: (library, _args, ctx) => ctx.loaders.desksByLibrary.load(library.id),
  },
  CirculationDesk: {
    library: async (desk, _args, ctx) => (await ctx.loaders.libraryById.load(desk.libraryId))!,
  },
  Owner: {
    institution: (owner) => owner.libraryId === null,
    library: (owner, _args, ctx) => (owner.libraryId ? ctx.loaders.libraryById.load(owner.libraryId) : null),
  },
};
