import { badInput, conflict, notFound } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { RequestContext } from '../context';
import { RoleAssignmentRule, RoleProfile } from '../db/entities';
import { inTransaction } from '../db/transaction';
import type { RoleAssignmentRuleInput, RoleProfileInput } from '../generated/graphql';
import { findExistingCodes } from '../institutions/institution.repository';
import { resolveRoleInput } from './role-input';
import { findAssignmentRules, findRoleProfiles, replaceProfileEntries } from './role.repository';

/** Role profiles and the rules that assign them (R4.3): managed by User Administrators within their scopes. */

export function listRoleProfiles(ctx: RequestContext) {
  const operator = ctx.policy.assert('user.read');
  return findRoleProfiles(ctx.db.manager, operator.institutionId);
}

export function listAssignmentRules(ctx: RequestContext) {
  const operator = ctx.policy.assert('user.read');
  return findAssignmentRules(ctx.db.manager, operator.institutionId);
}

async function resolveProfileInput(ctx: RequestContext, institutionId: string, input: RoleProfileInput) {
  const name = input.name.trim();
  if (!name) throw badInput('input.name', 'The profile name is required');
  const roles = [];
  for (const [i, role] of input.roles.entries()) roles.push(await resolveRoleInput(ctx.db.manager, institutionId, role, `input.roles[${i}]`));
  for (const role of roles) if (role.scopeType !== null) ctx.policy.assertScope('roleProfile.manage', { libraryId: role.scopeLibraryId });
  return { name, description: input.description?.trim() || null, roles };
}

async function saveProfile(ctx: RequestContext, id: string | null, input: RoleProfileInput): Promise<RoleProfile> {
  const operator = ctx.policy.assert('roleProfile.manage');
  const draft = await resolveProfileInput(ctx, operator.institutionId, input);
  return inTransaction(ctx.db, async (tx) => {
    const repo = tx.getRepository(RoleProfile);
    let profile: RoleProfile;
    if (id === null) {
      profile = repo.create({ institutionId: operator.institutionId, name: draft.name, description: draft.description });
    } else {
      const found = isUuid(id) ? await repo.findOne({ where: { id, institutionId: operator.institutionId }, lock: { mode: 'pessimistic_write' } }) : null;
      if (!found) throw notFound('No such role profile in your institution');
      profile = Object.assign(found, { name: draft.name, description: draft.description });
    }
    const taken = await repo.findOneBy({ institutionId: operator.institutionId, name: draft.name });
    if (taken && taken.id !== profile.id) throw conflict(`A role profile named "${draft.name}" exists`, { field: 'input.name', value: draft.name });
    profile = await repo.save(profile);
    await replaceProfileEntries(tx, profile, draft.roles);
    return profile;
  });
}

export const createRoleProfile = (ctx: RequestContext, input: RoleProfileInput) => saveProfile(ctx, null, input);
export const updateRoleProfile = (ctx: RequestContext, id: string, input: RoleProfileInput) => saveProfile(ctx, id, input);

/** Users keep the roles a profile gave them (they were copied); the profile's rules go with it. */
export async function deleteRoleProfile(ctx: RequestContext, id: string): Promise<string> {
  const operator = ctx.policy.assert('roleProfile.manage');
  const result = isUuid(id) ? await ctx.db.getRepository(RoleProfile).delete({ id, institutionId: operator.institutionId }) : { affected: 0 };
  if (!result.affected) throw notFound('No such role profile in your institution');
  return id;
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
  const [profile] = isUuid(input.profileId) ? await findRoleProfiles(db, operator.institutionId, [input.profileId]) : [];
  if (!profile) throw badInput('input.profileId', 'No such role profile in your institution');
  const repo = ctx.db.getRepository(RoleAssignmentRule);
  return repo.save(repo.create({
    institutionId: operator.institutionId, jobCategory: input.jobCategory ?? null, userGroup: input.userGroup ?? null, profileId: profile.id,
  }));
}

export async function deleteAssignmentRule(ctx: RequestContext, id: string): Promise<string> {
  const operator = ctx.policy.assert('roleProfile.manage');
  const result = isUuid(id) ? await ctx.db.getRepository(RoleAssignmentRule).delete({ id, institutionId: operator.institutionId }) : { affected: 0 };
  if (!result.affected) throw notFound('No such role assignment rule in your institution');
  return id;
}
