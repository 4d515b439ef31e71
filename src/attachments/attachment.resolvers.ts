import type { Resolvers } from '../generated/graphql';
import { removeAttachment, viewOf } from './attachment.service';

export const attachmentResolvers: Resolvers = {
  Mutation: {
    removeAttachment: (_parent, { id }, ctx) => removeAttachment(ctx, id),
  },
  User: {
    attachments: async (user, _args, ctx) => (await ctx.loaders.attachmentsByUser.load(user.id)).map(viewOf),
  },
};
