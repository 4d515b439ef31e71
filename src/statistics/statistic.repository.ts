import type { EntityManager } from 'typeorm';
import { UserStatistic } from '../db/entities';
import { ownerCondition, ownerParam, OwnerScope } from '../policy/scope';

/** Statistics of many users that the owner scope lets the operator see (R5.2). */
export function findStatisticsOf(db: EntityManager, institutionId: string, scope: OwnerScope, userIds: string[]): Promise<UserStatistic[]> {
  return db.getRepository(UserStatistic).createQueryBuilder('s')
    .where('s.institution_id = :institutionId AND s.user_id = ANY(:userIds::uuid[])', { institutionId, userIds })
    .andWhere(ownerCondition('s.owner_library_id', ':owners'), { owners: ownerParam(scope) })
    .orderBy('s.category_type', 'ASC')
    .addOrderBy('s.category', 'ASC')
    .getMany();
}
