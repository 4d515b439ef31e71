import type { EntityManager } from 'typeorm';
import { badInput, notFound } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { RequestContext } from '../context';
import type { User } from '../db/entities';
import type { Operator } from '../policy/operator';
import type { Action } from '../policy/permissions';
import { findUserForUpdate } from './user.repository';

/**
 * The first step of every change to a user: find it in the operator's
 * institution, lock its row for the rest of the transaction (so concurrent
 * edits of the same user queue), and let the policy decide (grant for the
 * record type, protected accounts, restricted users).
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
  if (!user) throw notFound('No such user in your institution');
  ctx.policy.assertCanChange(action, user);
  return { operator, user };
}
