import type { EntityManager } from 'typeorm';
import { UserBlock } from '../db/entities';
import { ownerCondition, ownerParam, OwnerScope } from '../policy/scope';

/** Blocks of many users that the owner scope covers (R5.2), newest first. */
export function findBlocksOf(db: EntityManager, institutionId: string, scope: OwnerScope, userIds: string[]): Promise<UserBlock[]> {
  return db.getRepository(UserBlock).createQueryBuilder('b')
    .where('b.institution_id = :institutionId AND b.user_id = ANY(:userIds::uuid[])', { institutionId, userIds })
    .andWhere(ownerCondition('b.owner_library_id', ':owners'), { owners: ownerParam(scope) })
    .orderBy('b.created_at', 'DESC')
    .addOrderBy('b.id', 'ASC')
    .getMany();
}

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
