import type { Resolvers } from '../generated/graphql';
import { createApiKey, isApiKeyActive, listApiKeys, revokeApiKey } from './api-key.service';

export const apiKeyResolvers: Resolvers = {
  Query: {
    apiKeys: (_parent, _args, ctx) => listApiKeys(ctx),
  },
  Mutation: {
    createApiKey: (_parent, { input }, ctx) => createApiKey(ctx, input),
    revokeApiKey: (_parent, { id }, ctx) => revokeApiKey(ctx, id),
  },
  ApiKey: {
    prefix: (key) => key.keyPrefix,
    roles: (key, _args, ctx) => ctx.loaders.rolesByApiKey.load(key.id),
    active: (key) => isApiKeyActive(key),
  },
};
