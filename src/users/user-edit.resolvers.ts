import type { Resolvers } from '../generated/graphql';
import { toggleAccountType } from './account-type.service';
import { setUserPassword, setUserPin } from './user-credentials.service';
import { deactivateUser, reactivateUser } from './user-status.service';
import { updateUser } from './user-update.service';
import { isKeptField } from './kept-fields';

export const userEditResolvers: Resolvers = {
  Mutation: {
    updateUser: (_parent, { id, input }, ctx) => updateUser(ctx, id, input),
    toggleAccountType: (_parent, { userId, password }, ctx) => toggleAccountType(ctx, userId, password),
    deactivateUser: (_parent, { id }, ctx) => deactivateUser(ctx, id),
    reactivateUser: (_parent, { id }, ctx) => reactivateUser(ctx, id),
    setUserPassword: (_parent, { userId, password }, ctx) => setUserPassword(ctx, userId, password ?? null),
    setUserPin: (_parent, { userId, pin }, ctx) => setUserPin(ctx, userId, pin ?? null),
  },
  User: {
    // The column is free text; only the enum's values reach the API.
    keptFields: (user) => user.keptFields.filter(isKeptField),
  },
};
