import type { EntityManager, EntityTarget } from 'typeorm';
import { badInput, notFound } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { RequestContext } from '../context';
import type { User } from '../db/entities';
import type { Operator } from '../policy/operator';
import { lockUserForChange } from '../users/user-target';
import { findUserItem, UserItemRow } from './user-item.repository';

/**
 * The first step of every change to an identifier or a contact item given by
 * its own id: find it in the operator's institution (NOT_FOUND otherwise),
 * then lock its user like any change to a user. The item is read again under
 * the user's lock, since every change to a user's items takes that lock
 * first: whatever another request did is then committed and visible. Locking
 * the item before the user would deadlock against those requests.
 */
export async function lockItemForChange<T extends UserItemRow>(
  ctx: RequestContext,
  tx: EntityManager,
  entity: EntityTarget<T>,
  id: string,
  what: string,
): Promise<{ operator: Operator; user: User; item: T }> {
  const operator = ctx.policy.assert('user.update');
  if (!isUuid(id)) throw badInput('id', `Not a valid ${what} id`);
  const found = await findUserItem(tx, entity, operator.institutionId, id);
  if (!found) throw notFound(`No such ${what} in your institution`);
  const { user } = await lockUserForChange(ctx, tx, 'user.update', found.userId);
  const item = await findUserItem(tx, entity, operator.institutionId, id);
  if (!item) throw notFound(`No such ${what} in your institution`);
  return { operator, user, item };
}

/** R3.3: the SIS owns external items; staff may neither edit nor remove them. */
export function refuseExternal(item: UserItemRow, what: string, text: string): void {
  if (item.isExternal) {
    throw badInput('id', `The ${what} ${text} is external (it comes from the SIS) and cannot be changed or removed here (R3.3)`);
  }
}
