import type { EntityManager } from 'typeorm';
import { badInput, conflict, notFound } from '../common/errors';
import { isUuid } from '../common/uuid';
import { endSessionsWithoutStaffRole } from '../auth/sessions.repository';
import type { RequestContext } from '../context';
import { inTransaction } from '../db/transaction';
import type { RoleAssignment, User } from '../db/entities';
import { appendEvents } from '../events/outbox.repository';
import type { RoleInput } from '../generated/graphql';
import { recordHistory } from '../history/history.repository';
import { recordUserChange } from '../history/record-change';
import type { Operator } from '../policy/operator';
import { lockUserForAccessChange } from '../users/user-target';
import { refuseListedTwice, ResolvedRole, resolveRoleInput } from './role-input';
import { describeRole, RoleScopeRef, sameRole } from './role-scope';
import { deleteRoles, findEntriesByRules, findProfileEntries, findRoleForUpdate, findRoleProfiles, findRolesOf, insertRoles } from './role.repository';

/**
 * Role assignment (R4.1, R4.3): who may hand out which role to whom is the
 * policy's decision ('role.assign' and the subset rule); this module keeps
 * the roles, their history and their events consistent.
 */

/**
 * Locks the user whose roles change, with the policy's checks for a change of
 * access: the operator must be able to grant every role the user already
 * holds, and is never the user itself. Contacts hold no roles (R1.1).
 */
async function lockRoleHolder(ctx: RequestContext, tx: EntityManager, userId: string) {
  const target = await lockUserForAccessChange(ctx, tx, 'role.assign', userId);
  if (target.user.recordType === 'CONTACT') throw badInput('userId', 'Contact records hold no roles (R1.1)');
  return target;
}

/** History and an event for each role added to or removed from its user, in the caller's transaction: two statements however many. */
async function recordRoleChanges(tx: EntityManager, operator: Operator, added: RoleAssignment[], removed: RoleAssignment[]) {
  const change = (role: RoleAssignment, kind: 'added' | 'removed') => {
    const oldValue = kind === 'removed' ? describeRole(role) : null;
    const newValue = kind === 'added' ? describeRole(role) : null;
    return {
      history: { institutionId: operator.institutionId, userId: role.userId, field: 'roles', changedBy: operator.label, oldValue, newValue },
      event: {
        institutionId: operator.institutionId, eventType: kind === 'added' ? 'ROLE_ASSIGNED' as const : 'ROLE_REMOVED' as const, aggregateType: 'USER' as const,
        aggregateId: role.userId!, actor: operator.label,
        // The history entry's change: what subscribers see of it (R11.3).
        payload: { roleId: role.id, role: describeRole(role), active: role.isActive, changes: [{ field: 'roles', oldValue, newValue }] },
      },
    };
  };
  const changes = [...added.map((r) => change(r, 'added')), ...removed.map((r) => change(r, 'removed'))];
  await recordHistory(tx, changes.map((c) => c.history));
  await appendEvents(tx, changes.map((c) => c.event));
}

export async function assignRole(ctx: RequestContext, userId: string, input: RoleInput): Promise<RoleAssignment> {
  const operator = ctx.policy.assert('role.assign');
  const role = await resolveRoleInput(ctx.db.manager, operator.institutionId, input, 'input');
  ctx.policy.assertMayGrant([role], 'This assignment', 'input');
  return inTransaction(ctx.db, async (tx) => {
    const { user, held } = await lockRoleHolder(ctx, tx, userId);
    if (held.some((h) => sameRole(h, role))) throw conflict(`The user already holds ${describeRole(role)}`, { field: 'input' });
    const [created] = await insertRoles(tx, [{ ...role, institutionId: operator.institutionId, userId: user.id }], operator.label);
    await recordRoleChanges(tx, operator, [created], []);
    return created;
  });
}

/** A held role that a listed role leaves as it is: the same type, scope and expiry date. */
const keeps = (held: RoleAssignment, listed: ResolvedRole) => sameRole(held, listed) && (held.expiryDate ?? null) === listed.expiryDate;

/**
 * setUserRoles (R4.1-R4.3): the list is the user's roles afterwards. Each listed role is checked as assignRole checks
 * it (the catalogue, the institution's scopes, the subset rule), each listed once; the user is locked as for any role
 * change, which also requires that the operator could grant every role the user holds, so no role is taken away by
 * someone who could not have given it. Only the difference is written: roles held as listed stay untouched (no
 * history, no event), the others are removed and added with removeRole's and assignRole's history and events. A role
 * listed with another expiry date than the one held is replaced (removed, then added). Concurrent replacements of one
 * user queue on its row lock, and each reads the roles after taking it, so the last one's list is the result.
 */
export async function setUserRoles(ctx: RequestContext, userId: string, inputs: readonly RoleInput[] | null | undefined): Promise<User> {
  const operator = ctx.policy.assert('role.assign');
  // An update that gives no roles list keeps the roles (issue 13): nothing to check beyond finding the user.
  if (inputs == null) return readUser(ctx, userId);
  const listed: ResolvedRole[] = [];
  for (const [i, input] of inputs.entries()) {
    const field = `roles[${i}]`;
    const role = await resolveRoleInput(ctx.db.manager, operator.institutionId, input, field);
    refuseListedTwice(listed, role, field);
    ctx.policy.assertMayGrant([role], 'This list', field);
    listed.push(role);
  }
  return inTransaction(ctx.db, async (tx) => {
    const { user, held } = await lockRoleHolder(ctx, tx, userId);
    const removed = held.filter((h) => !listed.some((r) => keeps(h, r)));
    const missing = listed.filter((r) => !held.some((h) => keeps(h, r)));
    // Removed first: a replaced role's new expiry date takes the place of the old one under the unique index.
    await deleteRoles(tx, operator.institutionId, removed.map((r) => r.id));
    const added = await insertRoles(tx, missing.map((r) => ({ ...r, institutionId: operator.institutionId, userId: user.id })), operator.label);
    if (removed.length > 0) await endSessionsWithoutStaffRole(tx, user.id);
    await recordRoleChanges(tx, operator, added, removed);
    return user;
  });
}

/** A user of the operator's institution, unchanged. */
async function readUser(ctx: RequestContext, userId: string): Promise<User> {
  if (!isUuid(userId)) throw badInput('userId', 'Not a user id');
  const user = await ctx.loaders.userById.load(userId);
  if (!user) throw notFound('No such user in your institution', { field: 'userId' });
  return user;
}

/** Loads a role and its user for a change; the role is among the user's held roles, so the subset rule covers it. */
async function lockRoleAndUser(ctx: RequestContext, tx: EntityManager, operator: Operator, roleId: string) {
  const role = isUuid(roleId) ? await findRoleForUpdate(tx, operator.institutionId, roleId) : null;
  if (!role || !role.userId) throw notFound('No such role assignment in your institution');
  const { user } = await lockRoleHolder(ctx, tx, role.userId);
  return { role, user };
}

export async function removeRole(ctx: RequestContext, roleId: string) {
  const operator = ctx.policy.assert('role.assign');
  return inTransaction(ctx.db, async (tx) => {
    const { role, user } = await lockRoleAndUser(ctx, tx, operator, roleId);
    await tx.remove(role);
    await endSessionsWithoutStaffRole(tx, user.id);
    await recordRoleChanges(tx, operator, [], [{ ...role, id: roleId }]);
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
    if (!active) await endSessionsWithoutStaffRole(tx, user.id);
    await recordUserChange(tx, operator, user.id, active ? 'ROLE_ACTIVATED' : 'ROLE_DEACTIVATED', [{
      field: 'roles', oldValue: `${describeRole(role)} ${active ? 'inactive' : 'active'}`, newValue: `${describeRole(role)} ${active ? 'active' : 'inactive'}`,
    }], { roleId: role.id, role: describeRole(role) });
    return role;
  });
}

/** The roles of `roles` the user does not hold yet, each once. */
const missingRoles = (roles: ResolvedRole[], held: RoleAssignment[]) =>
  roles.filter((r, i) => !held.some((h) => sameRole(h, r)) && roles.findIndex((o) => sameRole(o, r)) === i);

/** Copies roles onto users, with their history and events; returns what was added. */
async function addRoles(tx: EntityManager, operator: Operator, grants: { user: User; roles: ResolvedRole[] }[]): Promise<RoleAssignment[]> {
  const added = await insertRoles(tx, grants.flatMap(({ user, roles }) => roles.map((r) => ({ ...r, institutionId: user.institutionId, userId: user.id }))), operator.label);
  await recordRoleChanges(tx, operator, added, []);
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
  ctx.policy.assertMayGrant(roles, `Profile "${profile.name}"`, 'profileId');
  return inTransaction(ctx.db, async (tx) => {
    const { user, held } = await lockRoleHolder(ctx, tx, userId);
    await addRoles(tx, operator, [{ user, roles: missingRoles(roles, held) }]);
    return user;
  });
}

/**
 * R4.3: role assignment rules run when users are saved, on behalf of the
 * operator who saved them, so they give only what that operator could give
 * itself (policy.assertMayGrantTo): otherwise the whole save is refused,
 * naming the roles. A batch of users (an SIS load) costs the same few
 * statements as one: the rules of each distinct job category and user group
 * are read once, the roles held by all in one statement, and the new roles,
 * their history and events written in one statement each.
 */
export async function applyAssignmentRules(ctx: RequestContext, tx: EntityManager, users: readonly User[]): Promise<RoleAssignment[]> {
  const candidates = users.filter((u) => u.recordType !== 'CONTACT' && (u.jobCategory || u.userGroup));
  if (candidates.length === 0) return [];
  const institutionId = candidates[0].institutionId;
  const ruleKey = (u: User) => `${u.jobCategory ?? ''}\u0000${u.userGroup ?? ''}`;
  const entries = new Map<string, ResolvedRole[]>();
  for (const user of candidates) {
    if (entries.has(ruleKey(user))) continue;
    entries.set(ruleKey(user), (await findEntriesByRules(tx, institutionId, { jobCategory: user.jobCategory, userGroup: user.userGroup })).map(entryToRole));
  }
  const ruled = candidates.filter((u) => entries.get(ruleKey(u))!.length > 0);
  if (ruled.length === 0) return [];
  const heldBy = new Map<string, RoleAssignment[]>(ruled.map((u) => [u.id, []]));
  for (const role of await findRolesOf(tx, institutionId, ruled.map((u) => u.id))) heldBy.get(role.userId!)!.push(role);
  const grants = ruled
    .map((user) => ({ user, roles: missingRoles(entries.get(ruleKey(user))!, heldBy.get(user.id)!) }))
    .filter((g) => g.roles.length > 0);
  for (const { user, roles } of grants) {
    ctx.policy.assertMayGrantTo(user, heldBy.get(user.id)!, roles, 'A role assignment rule for this job category or user group');
  }
  return addRoles(tx, ctx.policy.authenticated(), grants);
}
