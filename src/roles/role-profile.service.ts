import type { EntityManager } from 'typeorm';
import { badInput, conflict, notFound } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { RequestContext } from '../context';
import { RoleAssignmentRule, RoleProfile } from '../db/entities';
import { inTransaction } from '../db/transaction';
import type { RoleAssignmentRuleInput, RoleProfileInput } from '../generated/graphql';
import type { FieldChange } from '../history/record-change';
import { recordConfigurationChange } from '../history/record-change';
import { findExistingCodes } from '../institutions/institution.repository';
import type { Operator } from '../policy/operator';
import { refuseListedTwice, resolveRoleInput, ResolvedRole } from './role-input';
import { describeRole, RoleScopeRef } from './role-scope';
import { findAssignmentRules, findProfileEntries, findRoleProfiles, lockAssignmentRule, lockRoleProfile, replaceProfileEntries } from './role.repository';

/**
 * Role profiles and the rules that assign them (R4.3), managed by User
 * Administrators. A profile or rule hands roles out later, so the subset rule
 * applies to it as to assigning the roles directly: creating, changing,
 * deleting or binding one needs that the operator may grant every role in it,
 * before and after the change. Every change is recorded (history and event).
 */

export function listRoleProfiles(ctx: RequestContext) {
  const operator = ctx.policy.assert('user.read');
  return findRoleProfiles(ctx.db.manager, operator.institutionId);
}

export function listAssignmentRules(ctx: RequestContext) {
  const operator = ctx.policy.assert('user.read');
  return findAssignmentRules(ctx.db.manager, operator.institutionId);
}

const describeRoles = (roles: ({ roleType: string } & RoleScopeRef)[]) => (roles.length > 0 ? roles.map(describeRole).sort().join(', ') : null);

async function resolveProfileInput(ctx: RequestContext, institutionId: string, input: RoleProfileInput) {
  const name = input.name.trim();
  if (!name) throw badInput('input.name', 'The profile name is required');
  const roles: ResolvedRole[] = [];
  for (const [i, role] of input.roles.entries()) {
    const field = `input.roles[${i}]`;
    const resolved = await resolveRoleInput(ctx.db.manager, institutionId, role, field);
    refuseListedTwice(roles, resolved, field);
    ctx.policy.assertMayGrant([resolved], 'This profile entry', field);
    roles.push(resolved);
  }
  return { name, description: input.description?.trim() || null, roles };
}

const NO_PROFILE = 'No such role profile in your institution';

/** A profile of the institution, locked, with its entries; the operator must be able to grant every entry it has now. */
async function lockProfileForChange(ctx: RequestContext, tx: EntityManager, institutionId: string, id: string, missing = () => notFound(NO_PROFILE)) {
  const profile = isUuid(id) ? await lockRoleProfile(tx, institutionId, id) : null;
  if (!profile) throw missing();
  const entries = await findProfileEntries(tx, institutionId, [profile.id]);
  ctx.policy.assertMayGrant(entries, `Profile "${profile.name}"`, 'id');
  return { profile, entries };
}

async function saveProfile(ctx: RequestContext, id: string | null, input: RoleProfileInput): Promise<RoleProfile> {
  const operator = ctx.policy.assert('roleProfile.manage');
  const draft = await resolveProfileInput(ctx, operator.institutionId, input);
  return inTransaction(ctx.db, async (tx) => {
    const repo = tx.getRepository(RoleProfile);
    const before = id === null ? null : await lockProfileForChange(ctx, tx, operator.institutionId, id);
    const taken = await repo.findOneBy({ institutionId: operator.institutionId, name: draft.name });
    if (taken && taken.id !== before?.profile.id) throw conflict(`A role profile named "${draft.name}" exists`, { field: 'input.name', value: draft.name });
    const changes: FieldChange[] = [
      { field: 'name', oldValue: before?.profile.name ?? null, newValue: draft.name },
      { field: 'description', oldValue: before?.profile.description ?? null, newValue: draft.description },
      { field: 'roles', oldValue: before ? describeRoles(before.entries) : null, newValue: describeRoles(draft.roles) },
    ];
    const profile = await repo.save(before
      ? Object.assign(before.profile, { name: draft.name, description: draft.description })
      : repo.create({ institutionId: operator.institutionId, name: draft.name, description: draft.description }));
    await replaceProfileEntries(tx, profile, draft.roles);
    const changed = before ? changes.filter((c) => c.oldValue !== c.newValue) : changes;
    await recordConfigurationChange(tx, operator, { type: 'ROLE_PROFILE', id: profile.id }, before ? 'ROLE_PROFILE_UPDATED' : 'ROLE_PROFILE_CREATED', changed);
    return profile;
  });
}

export const createRoleProfile = (ctx: RequestContext, input: RoleProfileInput) => saveProfile(ctx, null, input);
export const updateRoleProfile = (ctx: RequestContext, id: string, input: RoleProfileInput) => saveProfile(ctx, id, input);

/** Users keep the roles a profile gave them (they were copied); the profile's rules go with it. */
export async function deleteRoleProfile(ctx: RequestContext, id: string): Promise<string> {
  const operator = ctx.policy.assert('roleProfile.manage');
  return inTransaction(ctx.db, async (tx) => {
    const { profile, entries } = await lockProfileForChange(ctx, tx, operator.institutionId, id);
    const rules = (await findAssignmentRules(tx, operator.institutionId)).filter((r) => r.profileId === profile.id);
    await tx.getRepository(RoleProfile).delete({ id: profile.id });
    // Its rules go with it (the foreign key cascades): each is recorded as deleted too.
    for (const rule of rules) await recordRuleDeleted(tx, operator, rule, profile.name);
    await recordConfigurationChange(tx, operator, { type: 'ROLE_PROFILE', id: profile.id }, 'ROLE_PROFILE_DELETED', [
      { field: 'profile', oldValue: `${profile.name}: ${describeRoles(entries) ?? 'no roles'}`, newValue: null },
    ]);
    return profile.id;
  });
}

/** How a rule reads in history: `jobCategory=LIBRARIAN userGroup=* -> Profile name`. */
const describeRule = (rule: { jobCategory: string | null; userGroup: string | null }, profileName: string) =>
  `jobCategory=${rule.jobCategory ?? '*'} userGroup=${rule.userGroup ?? '*'} -> ${profileName}`;

function recordRuleDeleted(tx: EntityManager, operator: Operator, rule: RoleAssignmentRule, profileName: string) {
  return recordConfigurationChange(tx, operator, { type: 'ROLE_ASSIGNMENT_RULE', id: rule.id }, 'ROLE_ASSIGNMENT_RULE_DELETED', [
    { field: 'rule', oldValue: describeRule(rule, profileName), newValue: null },
  ], { profileId: rule.profileId });
}

export async function createAssignmentRule(ctx: RequestContext, input: RoleAssignmentRuleInput): Promise<RoleAssignmentRule> {
  const operator = ctx.policy.assert('roleProfile.manage');
  const db = ctx.db.manager;
  if (!input.jobCategory && !input.userGroup) throw badInput('input', 'A rule needs a job category, a user group or both');
  const codes: [keyof RoleAssignmentRuleInput, string][] = [['jobCategory', 'JOB_CATEGORY'], ['userGroup', 'USER_GROUP']];
  for (const [field, kind] of codes) {
    const code = input[field];
    if (code && (await findExistingCodes(db, operator.institutionId, kind, [code])).length === 0) {
      throw badInput(`input.${field}`, `"${code}" is not a configured ${kind.toLowerCase().replace('_', ' ')}`);
    }
  }
  return inTransaction(ctx.db, async (tx) => {
    // Binding a profile to a rule hands its roles to whoever the rule matches: the same test as changing the profile.
    const { profile } = await lockProfileForChange(ctx, tx, operator.institutionId, input.profileId, () => badInput('input.profileId', NO_PROFILE));
    const repo = tx.getRepository(RoleAssignmentRule);
    const rule = await repo.save(repo.create({
      institutionId: operator.institutionId, jobCategory: input.jobCategory ?? null, userGroup: input.userGroup ?? null, profileId: profile.id,
    }));
    await recordConfigurationChange(tx, operator, { type: 'ROLE_ASSIGNMENT_RULE', id: rule.id }, 'ROLE_ASSIGNMENT_RULE_CREATED', [
      { field: 'rule', oldValue: null, newValue: describeRule(rule, profile.name) },
    ], { profileId: profile.id });
    return rule;
  });
}

export async function deleteAssignmentRule(ctx: RequestContext, id: string): Promise<string> {
  const operator = ctx.policy.assert('roleProfile.manage');
  return inTransaction(ctx.db, async (tx) => {
    const rule = isUuid(id) ? await lockAssignmentRule(tx, operator.institutionId, id) : null;
    if (!rule) throw notFound('No such role assignment rule in your institution');
    const { profile } = await lockProfileForChange(ctx, tx, operator.institutionId, rule.profileId);
    await tx.getRepository(RoleAssignmentRule).delete({ id: rule.id });
    await recordRuleDeleted(tx, operator, rule, profile.name);
    return rule.id;
  });
}
