import type { EntityManager } from 'typeorm';
import { RoleAssignment } from '../db/entities';

/** Role assignments of many users at once, active ones first. */
export function findRolesOf(db: EntityManager, institutionId: string, userIds: string[]): Promise<RoleAssignment[]> {
  return db.getRepository(RoleAssignment).createQueryBuilder('r')
    .where('r.institution_id = :institutionId AND r.user_id = ANY(:userIds::uuid[])', { institutionId, userIds })
    .orderBy('r.is_active', 'DESC')
    .addOrderBy('r.role_type', 'ASC')
    .addOrderBy('r.id', 'ASC')
    .getMany();
}
