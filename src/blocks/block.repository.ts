import type { EntityManager } from 'typeorm';
import { UserBlock } from '../db/entities';
import { ownerCondition, ownerParam, OwnerScope } from '../policy/scope';
import { childRows, institutionParam } from '../db/child-rows';

/** A user's blocks that the owner scope covers (R5.2), newest first (src/db/child-rows.ts). */
export const blocksOfUser = childRows(UserBlock, 'b', {
  from: 'user_block b',
  where: (parent, p, on) => `b.institution_id = ${institutionParam(p, on)} AND b.user_id = ${parent}
    AND ${ownerCondition('b.owner_library_id', p.once('owners', ownerParam(on.scope)))}`,
  order: 'b.created_at DESC, b.id ASC',
  // Whether a block is active (the blocks filter, hasActiveBlock) reads expiryDate (block.resolvers.ts renames the rest).
  columns: {
    always: ['userId', 'expiryDate'],
    computed: { type: ['blockType'], owner: ['ownerLibraryId'], expiresAt: [], active: [], external: ['isExternal'] },
  },
});

/** The blocks among `ids` the owner scope covers (R5.2): a hidden block is not retrieved at all. */
export function findBlocksInScope(db: EntityManager, institutionId: string, scope: OwnerScope, ids: string[]): Promise<UserBlock[]> {
  return db.getRepository(UserBlock).createQueryBuilder('b')
    .where('b.institution_id = :institutionId AND b.id = ANY(:ids::uuid[])', { institutionId, ids })
    .andWhere(ownerCondition('b.owner_library_id', ':owners'), { owners: ownerParam(scope) })
    .getMany();
}

/** R6.2: a block is active until its expiry date passes. */
export function isBlockActive(block: UserBlock, now = new Date()): boolean {
  return block.expiryDate === null || block.expiryDate > now;
}
