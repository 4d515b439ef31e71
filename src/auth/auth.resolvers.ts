import type { Resolvers } from '../generated/graphql';
import { authenticateUser } from './authenticate-user.service';
import { login } from './login.service';
import { changePassword } from './password.service';
import { endUserSessions, unlockUser } from './sessions.service';

export const authResolvers: Resolvers = {
  Query: {
    me: async (_parent, _args, ctx) => {
      const operator = ctx.policy.staffSession('me is for staff sessions (see apiKeys)');
      return (await ctx.loaders.userById.load(operator.id))!;
    },
  },
  Mutation: {
    login: (_parent, args, ctx) => login(ctx, args),
    changePassword: (_parent, { currentPassword, newPassword }, ctx) => changePassword(ctx, currentPassword, newPassword),
    unlockUser: (_parent, { userId }, ctx) => unlockUser(ctx, userId),
    endSessions: (_parent, { userId }, ctx) => endUserSessions(ctx, userId),
    authenticateUser: (_parent, args, ctx) => authenticateUser(ctx, args),
  },
};
