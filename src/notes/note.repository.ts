import type { EntityManager } from 'typeorm';
import { UserNote } from '../db/entities';
import { ownerCondition, ownerParam, OwnerScope } from '../policy/scope';

/** Notes of many users that the owner scope lets the operator see (R5.2), newest first. */
export function findNotesOf(db: EntityManager, institutionId: string, scope: OwnerScope, userIds: string[]): Promise<UserNote[]> {
  return db.getRepository(UserNote).createQueryBuilder('n')
    .where('n.institution_id = :institutionId AND n.user_id = ANY(:userIds::uuid[])', { institutionId, userIds })
    .andWhere(ownerCondition('n.owner_library_id', ':owners'), { owners: ownerParam(scope) })
    .orderBy('n.created_at', 'DESC')
    .addOrderBy('n.id', 'ASC')
    .getMany();
}

/** The notes among `ids` the owner scope covers (R5.2): a hidden note is not retrieved at all. */
export function findNotesInScope(db: EntityManager, institutionId: string, scope: OwnerScope, ids: string[]): Promise<UserNote[]> {
  return db.getRepository(UserNote).createQueryBuilder('n')
    .where('n.institution_id = :institutionId AND n.id = ANY(:ids::uuid[])', { institutionId, ids })
    .andWhere(ownerCondition('n.owner_library_id', ':owners'), { owners: ownerParam(scope) })
    .getMany();
}
