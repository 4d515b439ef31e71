import type { EntityManager } from 'typeorm';
import { RoleAssignment, RoleAssignmentRule, RoleProfile, RoleProfileEntry } from '../db/entities';
import { roleInForceSql } from '../policy/roles-in-force.sql';
import type { ResolvedRole } from './role-input';
import { lockRow } from '../db/lock-row';
import { childRows, institutionParam, readChildren } from '../db/child-rows';

/** A user's role assignments (src/db/child-rows.ts), active ones first. */
export const rolesOfUser = childRows(RoleAssignment, 'r', {
  from: 'role_assignment r',
  where: (parent, p, on) => `r.institution_id = ${institutionParam(p, on)} AND r.user_id = ${parent}`,
  order: 'r.is_active DESC, r.role_type ASC, r.id ASC',
  // The field guard reads apiKeyId and userId; label and countsAsNamedUser read roleType (role.resolvers.ts).
  columns: {
    always: ['userId', 'apiKeyId', 'roleType'],
    computed: { label: [], countsAsNamedUser: [], scope: ['scopeType', 'scopeLibraryId', 'scopeDeskId'], active: ['isActive', 'scopeType', 'expiryDate'] },
  },
});

/** Role assignments of many users at once, each user's active ones first. */
export async function findRolesOf(db: EntityManager, institutionId: string, userIds: string[]): Promise<RoleAssignment[]> {
  return (await readChildren(rolesOfUser, { db, institutionId, scope: { all: true } }, userIds)).flat();
}

/** Role assignments of many API keys at once. */
export function findRolesOfApiKeys(db: EntityManager, institutionId: string, apiKeyIds: string[]): Promise<RoleAssignment[]> {
  return db.getRepository(RoleAssignment).createQueryBuilder('r')
    .where('r.institution_id = :institutionId AND r.api_key_id = ANY(:apiKeyIds::uuid[])', { institutionId, apiKeyIds })
    .orderBy('r.role_type', 'ASC')
    .addOrderBy('r.id', 'ASC')
    .getMany();
}

/** Role assignments of many webhooks at once. */
export function findRolesOfWebhooks(db: EntityManager, institutionId: string, webhookIds: string[]): Promise<RoleAssignment[]> {
  return db.getRepository(RoleAssignment).createQueryBuilder('r')
    .where('r.institution_id = :institutionId AND r.webhook_id = ANY(:webhookIds::uuid[])', { institutionId, webhookIds })
    .orderBy('r.role_type', 'ASC')
    .addOrderBy('r.id', 'ASC')
    .getMany();
}

/** One role assignment of the institution, locked for the rest of the transaction. */
export function findRoleForUpdate(tx: EntityManager, institutionId: string, id: string): Promise<RoleAssignment | null> {
  return lockRow(tx, RoleAssignment, institutionId, id);
}

/** Who holds a role: a user, an API key or a webhook, in an institution. */
export interface RoleHolder {
  institutionId: string;
  userId?: string;
  apiKeyId?: string;
  webhookId?: string;
}

/** Inserts roles, each for its holder (users, API keys or webhooks), in one statement; returns them. */
export async function insertRoles(tx: EntityManager, roles: (ResolvedRole & RoleHolder)[], createdBy: string): Promise<RoleAssignment[]> {
  if (roles.length === 0) return [];
  const repo = tx.getRepository(RoleAssignment);
  return repo.save(roles.map((r) => repo.create({ ...r, userId: r.userId ?? null, apiKeyId: r.apiKeyId ?? null, webhookId: r.webhookId ?? null, createdBy })));
}

/** Deletes role assignments of the institution by id, in one statement. */
export async function deleteRoles(tx: EntityManager, institutionId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(`DELETE FROM role_assignment WHERE institution_id = $1 AND id = ANY($2::uuid[])`, [institutionId, ids]);
}

export function findRoleProfiles(db: EntityManager, institutionId: string, ids?: string[]): Promise<RoleProfile[]> {
  const qb = db.getRepository(RoleProfile).createQueryBuilder('p').where('p.institution_id = :institutionId', { institutionId });
  if (ids) qb.andWhere('p.id = ANY(:ids::uuid[])', { ids });
  return qb.orderBy('p.name', 'ASC').getMany();
}

/** One profile of the institution, locked for the rest of the transaction (concurrent edits of it queue). */
export function lockRoleProfile(tx: EntityManager, institutionId: string, id: string): Promise<RoleProfile | null> {
  return lockRow(tx, RoleProfile, institutionId, id);
}

/** One assignment rule of the institution, locked for the rest of the transaction. */
export function lockAssignmentRule(tx: EntityManager, institutionId: string, id: string): Promise<RoleAssignmentRule | null> {
  return lockRow(tx, RoleAssignmentRule, institutionId, id);
}

export function findProfileEntries(db: EntityManager, institutionId: string, profileIds: string[]): Promise<RoleProfileEntry[]> {
  return db.getRepository(RoleProfileEntry).createQueryBuilder('e')
    .where('e.institution_id = :institutionId AND e.profile_id = ANY(:profileIds::uuid[])', { institutionId, profileIds })
    .orderBy('e.role_type', 'ASC')
    .addOrderBy('e.id', 'ASC')
    .getMany();
}

export async function replaceProfileEntries(tx: EntityManager, profile: RoleProfile, roles: ResolvedRole[]): Promise<void> {
  await tx.getRepository(RoleProfileEntry).delete({ profileId: profile.id });
  if (roles.length === 0) return;
  await tx.getRepository(RoleProfileEntry).insert(
    roles.map((r) => ({
      institutionId: profile.institutionId, profileId: profile.id, roleType: r.roleType,
      scopeType: r.scopeType, scopeLibraryId: r.scopeLibraryId, scopeDeskId: r.scopeDeskId,
    })),
  );
}

export function findAssignmentRules(db: EntityManager, institutionId: string): Promise<RoleAssignmentRule[]> {
  return db.getRepository(RoleAssignmentRule).createQueryBuilder('r')
    .where('r.institution_id = :institutionId', { institutionId })
    .orderBy('r.job_category', 'ASC', 'NULLS LAST')
    .addOrderBy('r.user_group', 'ASC', 'NULLS LAST')
    .getMany();
}

/**
 * Entries of the profiles whose rules match the person (R4.3): a rule matches
 * when each condition it sets (job category, user group) equals the person's.
 */
export function findEntriesByRules(
  db: EntityManager,
  institutionId: string,
  person: { jobCategory: string | null; userGroup: string | null },
): Promise<RoleProfileEntry[]> {
  return db.getRepository(RoleProfileEntry).createQueryBuilder('e')
    .where('e.institution_id = :institutionId', { institutionId })
    .andWhere(`e.profile_id IN (SELECT r.profile_id FROM role_assignment_rule r WHERE r.institution_id = :institutionId
                 AND (r.job_category IS NULL OR r.job_category = :jobCategory)
                 AND (r.user_group IS NULL OR r.user_group = :userGroup))`, person)
    .getMany();
}

/** Whether the user holds a Patron role in force: active and not past its expiry date. */
export async function holdsActivePatronRole(db: EntityManager, institutionId: string, userId: string): Promise<boolean> {
  const rows = await db.query(
    `SELECT 1 FROM role_assignment r
      WHERE r.institution_id = $1 AND r.user_id = $2 AND r.role_type = 'PATRON' AND ${roleInForceSql('r')}
      LIMIT 1`,
    [institutionId, userId],
  );
  return rows.length > 0;
}
