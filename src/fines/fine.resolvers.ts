import type { Resolvers } from '../generated/graphql';
import { getFineSettings, listFineFeeTypes, listPaymentMethods, listWaiveReasons } from './fine-config.service';
import { addFine, disputeFine, payFine, payFines, restoreFine } from './fine.service';

export const fineResolvers: Resolvers = {
  Query: {
    fineFeeTypes: (_parent, _args, ctx) => listFineFeeTypes(ctx),
    waiveReasons: (_parent, _args, ctx) => listWaiveReasons(ctx),
    paymentMethods: (_parent, _args, ctx) => listPaymentMethods(ctx),
    fineSettings: (_parent, _args, ctx) => getFineSettings(ctx),
  },
  Mutation: {
    addFine: (_parent, { userId, input }, ctx) => addFine(ctx, userId, input),
    payFine: (_parent, { id, input }, ctx) => payFine(ctx, id, input),
    payFines: (_parent, { input }, ctx) => payFines(ctx, input),
    disputeFine: (_parent, { id, comment }, ctx) => disputeFine(ctx, id, comment),
    restoreFine: (_parent, { id, comment }, ctx) => restoreFine(ctx, id, comment),
  },
  User: {
    fines: (user, { status }, ctx) => ctx.loaders.finesByUser(status ?? ['ACTIVE']).load(user.id),
  },
  Fine: {
    type: (f) => f.fineType,
    owner: (f) => ({ libraryId: f.ownerLibraryId }),
    actions: (f, _args, ctx) => ctx.loaders.fineActionsByFine.load(f.id),
    // The fine was reached through its user or a scoped lookup, so its user is in the operator's institution.
    user: async (f, _args, ctx) => (await ctx.loaders.userById.load(f.userId))!,
  },
  FineAction: {
    type: (a) => a.actionType,
    // Reached through its fine or the ledger list, both scoped to the owners the operator may see (R5.2).
    fine: async (a, _args, ctx) => (await ctx.loaders.fineById.load(a.fineId))!,
  },
  FineFeeType: {
    credit: (t) => t.isCredit,
  },
};
