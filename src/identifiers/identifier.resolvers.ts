import type { Resolvers } from '../generated/graphql';
import { addIdentifier, removeIdentifier, updateIdentifier } from './identifier.service';
import { changePrimaryIdentifier } from './primary-identifier.service';

export const identifierResolvers: Resolvers = {
  Mutation: {
    addIdentifier: (_parent, { userId, input }, ctx) => addIdentifier(ctx, userId, input),
    updateIdentifier: (_parent, { id, input }, ctx) => updateIdentifier(ctx, id, input),
    removeIdentifier: (_parent, { id }, ctx) => removeIdentifier(ctx, id),
    changePrimaryIdentifier: (_parent, { userId, value }, ctx) => changePrimaryIdentifier(ctx, userId, value),
  },
};
