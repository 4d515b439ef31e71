import type { Resolvers } from '../generated/graphql';
import { addNote, removeNote, updateNote } from './note.service';

export const noteResolvers: Resolvers = {
  Mutation: {
    addNote: (_parent, { userId, input }, ctx) => addNote(ctx, userId, input),
    updateNote: (_parent, { id, input }, ctx) => updateNote(ctx, id, input),
    removeNote: (_parent, { id }, ctx) => removeNote(ctx, id),
  },
  User: {
    notes: (user, _args, ctx) => ctx.loaders.notesByUser.load(user.id),
  },
  Note: {
    type: (n) => n.noteType,
    owner: (n) => ({ libraryId: n.ownerLibraryId }),
    external: (n) => n.isExternal,
  },
};
