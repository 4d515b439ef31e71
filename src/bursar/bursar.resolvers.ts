import type { Resolvers } from '../generated/graphql';
import { toCsv, toJsonLines } from './bursar-batch';
import { exportFinesToBursar, getBursarBatch, listBursarBatches } from './bursar-export.service';

export const bursarResolvers: Resolvers = {
  Query: {
    bursarExportBatch: (_parent, { id }, ctx) => getBursarBatch(ctx, id),
    bursarExportBatches: (_parent, args, ctx) => listBursarBatches(ctx, args),
  },
  Mutation: {
    exportFinesToBursar: (_parent, { input }, ctx) => exportFinesToBursar(ctx, input),
  },
  BursarExportBatch: {
    lines: (b, _args, ctx) => ctx.loaders.bursarLinesByBatch.load(b.seq),
    jsonLines: async (b, _args, ctx) => toJsonLines(await ctx.loaders.bursarLinesByBatch.load(b.seq)),
    csv: async (b, _args, ctx) => toCsv(await ctx.loaders.bursarLinesByBatch.load(b.seq)),
  },
  BursarExportLine: {
    owner: (l) => ({ libraryId: l.ownerLibraryId }),
  },
};
