import type { Resolvers } from '../generated/graphql';
import { isBlockActive } from './block.repository';
import { addBlock, removeBlock, updateBlock } from './block.service';

export const blockResolvers: Resolvers = {
  Mutation: {
    addBlock: (_parent, { userId, input }, ctx) => addBlock(ctx, userId, input),
    updateBlock: (_parent, { id, input }, ctx) => updateBlock(ctx, id, input),
    removeBlock: (_parent, { id }, ctx) => removeBlock(ctx, id),
  },
  Block: {
    type: (b) => b.blockType,
    owner: (b) => ({ libraryId: b.ownerLibraryId }),
    expiresAt: (b) => b.expiryDate,
    active: (b) => isBlockActive(b),
    external: (b) => b.isExternal,
  },
};
