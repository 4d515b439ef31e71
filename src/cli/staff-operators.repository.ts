import type { EntityManager } from 'typeorm';
import { roleInForceSql } from '../policy/roles-in-force.sql';
import { ROLE_TYPES } from '../roles/role-types';

const STAFF_ROLE_TYPES = ROLE_TYPES.filter((r) => r.staff).map((r) => r.code);

/**
 * The primary identifier (or id) of a user of the institution holding a staff role in force, or null when none does:
 * create-admin makes the first operator only, later ones are created by an operator, with the policy.
 */
export async function findStaffOperator(db: EntityManager, institutionId: string): Promise<string | null> {
  const [row] = (await db.query(
    `SELECT coalesce(u.primary_identifier, u.id::text) AS label
       FROM app_user u JOIN role_assignment r ON r.user_id = u.id
      WHERE u.institution_id = $1 AND u.purged_at IS NULL AND r.role_type = ANY($2::text[]) AND ${roleInForceSql('r')}
      LIMIT 1`,
    [institutionId, STAFF_ROLE_TYPES],
  )) as { label: string }[];
  return row?.label ?? null;
}
