import type { Resolvers } from '../generated/graphql';
import { isBlockActive } from './block.repository';

export const blockResolvers: Resolvers = {
  Block: {
    type: (b) => b.blockType,
    owner: (b) => ({ libraryId: b.ownerLibraryId }),
    expiresAt: (b) => b.expiryDate,
    active: (b) => isBlockActive(b),
    external: (b) => b.isExternal,
  },
};
