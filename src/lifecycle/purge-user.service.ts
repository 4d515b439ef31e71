import type { RequestContext } from '../context';
import { User } from '../db/entities';
import { inTransaction } from '../db/transaction';
import { lockUserForAccessChange } from '../users/user-target';
import { findPurgePolicy } from './delete-user-policy.repository';
import { purgeUsers } from './purge-users';
import { assertRemovable } from './removal-refusals';
import { findRemovalBlockers } from './removal.repository';

/**
 * purgeUser (R10.3): the access rule and refusals of deleteUser (R10.1,
 * R10.2, R4.5, the subset rule), then the one purge code path for a batch
 * of one. Returns the anonymous stub.
 */
export function purgeUser(ctx: RequestContext, id: string): Promise<User> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user } = await lockUserForAccessChange(ctx, tx, 'user.purge', id, 'id');
    const [blockers] = await findRemovalBlockers(tx, operator.institutionId, [user.id]);
    assertRemovable('purged', user.id, blockers);
    await purgeUsers(tx, operator, await findPurgePolicy(tx, operator.institutionId), [user]);
    return tx.getRepository(User).findOneByOrFail({ id: user.id });
  });
}
