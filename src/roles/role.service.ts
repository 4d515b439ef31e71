import type { EntityManager } from 'typeorm';
import { badInput, conflict, notFound } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { RequestContext } from '../context';
import { inTransaction } from '../db/transaction';
import type { RoleAssignment, User } from '../db/entities';
import { appendEvents } from '../events/outbox.repository';
import type { RoleInput } from '../generated/graphql';
import { recordHistory } from '../history/history.repository';
import type { Operator } from '../policy/operator';
import { lockUserForChange } from '../users/user-target';
import { describeRole, ResolvedRole, resolveRoleInput, sameRole } from './role-input';
import type { RoleScopeRef } from './role-scope';
import { findEntriesByRules, findProfileEntries, findRoleForUpdate, findRoleProfiles, findRolesOf, insertRoles } from './role.repository';

/**
 * Role assignment (R4.1, R4.3): who may hand out which role where is the
 * policy's decision ('role.assign' plus the scope check); this module keeps
 * the roles, their history and their events consistent.
 */

/** Locks the user whose roles change, with the policy's checks; contacts hold no roles (R1.1). */
async function lockRoleHolder(ctx: RequestContext, tx: EntityManager, userId: string): Promise<{ operator: Operator; user: User }> {
  const target = await lockUserForChange(ctx, tx, 'role.assign', userId);
  if (target.user.recordType === 'CONTACT') throw badInput('userId', 'Contact records hold no roles (R1.1)');
  return target;
}

/** History and an event for each role added to or removed from a user, in the caller's transaction. */
async function recordRoleChanges(tx: EntityManager, operator: Operator, user: User, added: RoleAssignment[], removed: RoleAssignment[]) {
  const change = (role: RoleAssignment, kind: 'added' | 'removed') => ({
    history: {
      institutionId: operator.institutionId, userId: user.id, field: 'roles', changedBy: operator.label,
      oldValue: kind === 'removed' ? describeRole(role) : null, newValue: kind === 'added' ? describeRole(role) : null,
    },
    event: {
      institutionId: operator.institutionId, eventType: kind === 'added' ? 'ROLE_ASSIGNED' : 'ROLE_REMOVED', aggregateType: 'USER' as const,
      aggregateId: user.id, payload: { roleId: role.id, role: describeRole(role), active: role.isActive }, actor: operator.label,
    },
  });
  const changes = [...added.map((r) => change(r, 'added')), ...removed.map((r) => change(r, 'removed'))];
  await recordHistory(tx, changes.map((c) => c.history));
  await appendEvents(tx, changes.map((c) => c.event));
}

function assertRolesInScope(ctx: RequestContext, roles: ResolvedRole[]): void {
  for (const role of roles) if (role.scopeType !== null) ctx.policy.assertScope('role.assign', { libraryId: role.scopeLibraryId });
}

export async function assignRole(ctx: RequestContext, userId: string, input: RoleInput): Promise<RoleAssignment> {
  const operator = ctx.policy.assert('role.assign');
  const role = await resolveRoleInput(ctx.db.manager, operator.institutionId, input, 'input');
  assertRolesInScope(ctx, [role]);
  return inTransaction(ctx.db, async (tx) => {
    const { user } = await lockRoleHolder(ctx, tx, userId);
    const held = await findRolesOf(tx, operator.institutionId, [user.id]);
    if (held.some((h) => sameRole(h, role))) throw conflict(`The user already holds ${describeRole(role)}`, { field: 'input' });
    const [created] = await insertRoles(tx, { institutionId: operator.institutionId, userId: user.id }, [role], operator.label);
    await recordRoleChanges(tx, operator, user, [created], []);
    return created;
  });
}

/** Loads a role and its user for a change, with the same checks as assigning it. */
async function lockRoleAndUser(ctx: RequestContext, tx: EntityManager, operator: Operator, roleId: string) {
  const role = isUuid(roleId) ? await findRoleForUpdate(tx, operator.institutionId, roleId) : null;
  if (!role || !role.userId) throw notFound('No such role assignment in your institution');
  const { user } = await lockRoleHolder(ctx, tx, role.userId);
  if (role.scopeType !== null) ctx.policy.assertScope('role.assign', { libraryId: role.scopeLibraryId });
  return { role, user };
}

export async function removeRole(ctx: RequestContext, roleId: string) {
  const operator = ctx.policy.assert('role.assign');
  return inTransaction(ctx.db, async (tx) => {
    const { role, user } = await lockRoleAndUser(ctx, tx, operator, roleId);
    await tx.remove(role);
    await recordRoleChanges(tx, operator, user, [], [{ ...role, id: roleId }]);
    return { removedRoleId: roleId, user };
  });
}

export async function setRoleActive(ctx: RequestContext, roleId: string, active: boolean): Promise<RoleAssignment> {
  const operator = ctx.policy.assert('role.assign');
  return inTransaction(ctx.db, async (tx) => {
    const { role, user } = await lockRoleAndUser(ctx, tx, operator, roleId);
    if (active && role.scopeType === null) throw badInput('active', 'A role without a scope cannot be activated: assign it again with a scope (R4.3)');
    if (role.isActive === active) return role;
    role.isActive = active;
    await tx.save(role);
    await recordHistory(tx, [{
      institutionId: operator.institutionId, userId: user.id, field: 'roles', changedBy: operator.label,
      oldValue: `${describeRole(role)} ${active ? 'inactive' : 'active'}`, newValue: `${describeRole(role)} ${active ? 'active' : 'inactive'}`,
    }]);
    await appendEvents(tx, [{
      institutionId: operator.institutionId, eventType: active ? 'ROLE_ACTIVATED' : 'ROLE_DEACTIVATED', aggregateType: 'USER',
      aggregateId: user.id, payload: { roleId: role.id, role: describeRole(role) }, actor: operator.label,
    }]);
    return role;
  });
}

/** Copies roles onto a user, skipping the ones it already holds; returns what was added. */
async function copyRolesOnto(tx: EntityManager, operator: Operator, user: User, roles: ResolvedRole[]): Promise<RoleAssignment[]> {
  const held = await findRolesOf(tx, user.institutionId, [user.id]);
  const missing = roles.filter((r, i) => !held.some((h) => sameRole(h, r)) && roles.findIndex((o) => sameRole(o, r)) === i);
  const added = await insertRoles(tx, { institutionId: user.institutionId, userId: user.id }, missing, operator.label);
  await recordRoleChanges(tx, operator, user, added, []);
  return added;
}

/** A profile entry as a role to copy: active when it has a scope (R4.3). */
const entryToRole = (e: { roleType: string } & RoleScopeRef): ResolvedRole => ({
  roleType: e.roleType, scopeType: e.scopeType, scopeLibraryId: e.scopeLibraryId, scopeDeskId: e.scopeDeskId,
  isActive: e.scopeType !== null, expiryDate: null,
});

/** R4.3: the profile's roles are copied, not linked: editing the profile later changes no user. */
export async function assignRoleProfile(ctx: RequestContext, userId: string, profileId: string): Promise<User> {
  const operator = ctx.policy.assert('role.assign');
  const [profile] = isUuid(profileId) ? await findRoleProfiles(ctx.db.manager, operator.institutionId, [profileId]) : [];
  if (!profile) throw notFound('No such role profile in your institution');
  const roles = (await findProfileEntries(ctx.db.manager, operator.institutionId, [profile.id])).map(entryToRole);
  assertRolesInScope(ctx, roles);
  return inTransaction(ctx.db, async (tx) => {
    const { user } = await lockRoleHolder(ctx, tx, userId);
    await copyRolesOnto(tx, operator, user, roles);
    return user;
  });
}

/**
 * R4.3: role assignment rules run when a user is saved. The system applies
 * them on the operator's behalf, so no scope check: the rules themselves were
 * set up by a User Administrator.
 */
export async function applyAssignmentRules(tx: EntityManager, operator: Operator, user: User): Promise<RoleAssignment[]> {
  if (user.recordType === 'CONTACT' || (!user.jobCategory && !user.userGroup)) return [];
  const entries = await findEntriesByRules(tx, user.institutionId, { jobCategory: user.jobCategory, userGroup: user.userGroup });
  return entries.length === 0 ? [] : copyRolesOnto(tx, operator, user, entries.map(entryToRole));
}
