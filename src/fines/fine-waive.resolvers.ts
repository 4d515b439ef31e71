import type { Resolvers } from '../generated/graphql';
import { waiveFines } from './fine-waive.service';

export const fineWaiveResolvers: Resolvers = {
  Mutation: {
    waiveFines: (_parent, { input }, ctx) => waiveFines(ctx, input),
  },
};
