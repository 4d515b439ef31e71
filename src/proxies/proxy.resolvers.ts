import type { Resolvers } from '../generated/graphql';
import { addProxy, removeProxy } from './proxy.service';

export const proxyResolvers: Resolvers = {
  Mutation: {
    addProxy: (_parent, { proxyUserId, sponsorUserId }, ctx) => addProxy(ctx, proxyUserId, sponsorUserId),
    removeProxy: (_parent, { id }, ctx) => removeProxy(ctx, id),
  },
  User: {
    proxies: (user, _args, ctx) => ctx.loaders.proxyLinksBySponsor.load(user.id),
  },
  Proxy: {
    proxy: async (link, _args, ctx) => (await ctx.loaders.userById.load(link.proxyUserId))!,
    sponsor: async (link, _args, ctx) => (await ctx.loaders.userById.load(link.sponsorUserId))!,
    fulfillment: (link) => link.isFulfillment,
  },
};
