import type { EntityManager } from 'typeorm';
import { badInput, conflict, notFound } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { RequestContext } from '../context';
import type { RoleAssignment, User } from '../db/entities';
import type { Operator } from '../policy/operator';
import type { Action } from '../policy/permissions';
import { findRolesOf } from '../roles/role.repository';
import { findUserForUpdate } from './user.repository';

/**
 * The first step of every change to a user: find it in the operator's
 * institution, lock its row for the rest of the transaction (so concurrent
 * edits of the same user queue), and let the policy decide (grant for the
 * record type, protected accounts, restricted users). A purged user's stub
 * is refused to everyone.
 */
export async function lockUserForChange(
  ctx: RequestContext,
  tx: EntityManager,
  action: Action,
  userId: string,
  field = 'userId',
): Promise<{ operator: Operator; user: User }> {
  const operator = ctx.policy.assert(action);
  if (!isUuid(userId)) throw badInput(field, 'Not a user id');
  const user = await findUserForUpdate(tx, operator.institutionId, userId);
  if (!user) throw notFound('No such user in your institution', { field });
  ctx.policy.assertCanChange(action, user);
  // A purged user is an anonymous stub history and reports refer to (R10.3): nothing may bring data back to it.
  if (user.purgedAt) throw conflict('The user was purged: its anonymous stub accepts no changes (R10.3)', { field, value: userId });
  return { operator, user };
}

/**
 * The first step of every change to a user's access (its roles, password,
 * PIN, account type, sign-in settings): lockUserForChange, then the subset
 * rule on the roles the user holds (policy.assertMayChangeAccess). Returns
 * the held roles too, read after the user's row is locked.
 */
export async function lockUserForAccessChange(
  ctx: RequestContext,
  tx: EntityManager,
  action: Action,
  userId: string,
  field = 'userId',
): Promise<{ operator: Operator; user: User; held: RoleAssignment[] }> {
  const { user } = await lockUserForChange(ctx, tx, action, userId, field);
  const held = await findRolesOf(tx, user.institutionId, [user.id]);
  const operator = ctx.policy.assertMayChangeAccess(action, user, held);
  return { operator, user, held };
}
