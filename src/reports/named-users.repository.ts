import type { EntityManager } from 'typeorm';
import { RoleAssignment, User } from '../db/entities';
import { notProtectedAccountSql } from '../policy/protected-accounts.sql';
import { roleInForceSql } from '../policy/roles-in-force.sql';

export interface NamedUserRow {
  user: User;
  /** The counting role type codes the user holds, sorted, without repeats. */
  countingRoles: string[];
}

/**
 * R4.4 in one statement: ACTIVE users of the institution holding at least one
 * role in force whose type is among `countingRoleTypes`, protected accounts
 * (R4.5) left out, with the counting roles they hold. Served by
 * role_assignment_role_idx (institution_id, role_type, user_id).
 */
export async function findNamedUsers(db: EntityManager, institutionId: string, countingRoleTypes: readonly string[]): Promise<NamedUserRow[]> {
  const { entities, raw } = await db.getRepository(User).createQueryBuilder('u')
    .innerJoin(RoleAssignment, 'r', `r.user_id = u.id AND r.institution_id = :institutionId AND r.role_type = ANY(:countingRoleTypes::text[])
                                     AND ${roleInForceSql('r')}`, { countingRoleTypes })
    .addSelect('array_agg(DISTINCT r.role_type ORDER BY r.role_type)', 'counting_roles')
    .where('u.institution_id = :institutionId', { institutionId })
    .andWhere(`u.status = 'ACTIVE'`)
    .andWhere(notProtectedAccountSql('u.primary_identifier'))
    .groupBy('u.id')
    .orderBy('u.sort_name', 'ASC')
    .addOrderBy('u.id', 'ASC')
    .getRawAndEntities<{ counting_roles: string[] }>();
  return entities.map((user, i) => ({ user, countingRoles: raw[i].counting_roles }));
}
