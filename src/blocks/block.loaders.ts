import { byIdLoader } from '../common/loaders';
import { ChildScope, childLoader } from '../db/child-rows';
import { blocksOfUser, findBlocksInScope } from './block.repository';

export function createBlockLoaders(on: ChildScope) {
  const { db, institutionId, scope } = on;
  return {
    blocksByUser: childLoader(blocksOfUser, on),
    blockById: byIdLoader((ids) => findBlocksInScope(db, institutionId, scope, ids)),
  };
}
