import type { RequestContext } from '../context';
import { inTransaction } from '../db/transaction';
import { appendEvents } from '../events/outbox.repository';
import { recordHistory } from '../history/history.repository';
import { recordUserChange } from '../history/record-change';
import { lockUserForAccessChange } from '../users/user-target';
import { assertRemovable } from './removal-refusals';
import { deleteProxyLinksOf, deleteUserRow, findRemovalBlockers } from './removal.repository';
import { otherSidesOf } from './unlinked-proxies';

/**
 * deleteUser (R10.1-R10.3): in one transaction, lock the user and let the
 * policy decide as for a change of its roles (grant, protected accounts,
 * restricted users, the subset rule, never oneself), refuse while anything
 * is owed or on loan (every reason), record the deletion (history outlives
 * the row) and the proxy links the users on their other side lose, and
 * delete the row with everything hanging off it.
 */
export function deleteUser(ctx: RequestContext, id: string): Promise<{ deletedUserId: string }> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user } = await lockUserForAccessChange(ctx, tx, 'user.delete', id, 'id');
    const [blockers] = await findRemovalBlockers(tx, operator.institutionId, [user.id]);
    assertRemovable('deleted', user.id, blockers);
    const others = otherSidesOf(operator, await deleteProxyLinksOf(tx, operator.institutionId, [user.id]), new Set([user.id]), () => user.primaryIdentifier);
    await recordUserChange(tx, operator, user.id, 'USER_DELETED', [{ field: 'record', oldValue: null, newValue: 'deleted' }],
      { primaryIdentifier: user.primaryIdentifier, recordType: user.recordType, accountType: user.accountType });
    await recordHistory(tx, others.history);
    await appendEvents(tx, others.events);
    await deleteUserRow(tx, operator.institutionId, user.id);
    return { deletedUserId: user.id };
  });
}
