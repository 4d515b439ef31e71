import type { Resolvers } from '../generated/graphql';
import { toggleAccountType } from './account-type.service';
import { deactivateUser, reactivateUser } from './user-status.service';
import { updateUser } from './user-update.service';
import { isKeptField } from './user-update.validation';

export const userEditResolvers: Resolvers = {
  Mutation: {
    updateUser: (_parent, { id, input }, ctx) => updateUser(ctx, id, input),
    toggleAccountType: (_parent, { userId, password }, ctx) => toggleAccountType(ctx, userId, password),
    deactivateUser: (_parent, { id }, ctx) => deactivateUser(ctx, id),
    reactivateUser: (_parent, { id }, ctx) => reactivateUser(ctx, id),
  },
  User: {
    // The column is free text; only the enum's values reach the API.
    keptFields: (user) => user.keptFields.filter(isKeptField),
  },
};
