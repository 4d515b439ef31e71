import type { EntityManager } from 'typeorm';
import { byIdLoader, groupedLoader } from '../common/loaders';
import type { OwnerScope } from '../policy/scope';
import { findBlocksInScope, findBlocksOf } from './block.repository';

export function createBlockLoaders(db: EntityManager, institutionId: string, scope: OwnerScope) {
  return {
    blocksByUser: groupedLoader((ids) => findBlocksOf(db, institutionId, scope, ids), (b) => b.userId),
    blockById: byIdLoader((ids) => findBlocksInScope(db, institutionId, scope, ids)),
  };
}
