import { badInput } from '../common/errors';
import type { RequestContext } from '../context';
import type { RoleInput } from '../generated/graphql';
import { refuseListedTwice, ResolvedRole, resolveRoleInput } from './role-input';

/**
 * The roles of a delegate: an API key, or a webhook (which receives what an
 * API key holding the same roles could read). At least one, each usable as
 * given (scoped), none listed twice, and each within the subset rule
 * (policy.assertMayDelegate): nobody gives a delegate more than they have.
 * `holder` names the delegate in refusals ("An API key"); `path` is the input path of the list.
 */
export async function resolveDelegatedRoles(
  ctx: RequestContext, institutionId: string, inputs: readonly RoleInput[], holder: string, path = 'input.roles',
): Promise<ResolvedRole[]> {
  if (inputs.length === 0) throw badInput(path, `${holder} needs at least one role`);
  const roles: ResolvedRole[] = [];
  for (const [i, roleInput] of inputs.entries()) {
    const field = `${path}[${i}]`;
    const role = await resolveRoleInput(ctx.db.manager, institutionId, roleInput, field);
    // A user may hold an unscoped, inactive role until someone scopes it (R4.3); a delegate must be usable as created.
    if (role.scopeType === null) throw badInput(`${field}.scope`, `${role.roleType} needs a scope: the roles of ${holder.replace(/^A/, 'a')} must be usable`);
    refuseListedTwice(roles, role, field);
    ctx.policy.assertMayDelegate(role, field);
    roles.push(role);
  }
  return roles;
}
