import type { Resolvers } from '../generated/graphql';

export const proxyResolvers: Resolvers = {
  Proxy: {
    proxy: async (link, _args, ctx) => (await ctx.loaders.userById.load(link.proxyUserId))!,
    sponsor: async (link, _args, ctx) => (await ctx.loaders.userById.load(link.sponsorUserId))!,
    fulfillment: (link) => link.isFulfillment,
  },
};
