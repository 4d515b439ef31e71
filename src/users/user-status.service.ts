import { conflict } from '../common/errors';
import { endSessions } from '../auth/sessions.repository';
import type { RequestContext } from '../context';
import { inTransaction } from '../db/transaction';
import { User, UserStatus } from '../db/entities';
import { recordUserChange } from '../history/record-change';
import { lockUserForChange } from './user-target';

/**
 * R1.5: ACTIVE <-> INACTIVE, with the status date set on every change. An
 * INACTIVE user is a blocked patron, and a staff user's sessions end: its
 * tokens stop working at the next request and stay refused after a
 * reactivation (sessions.repository.ts; issue 9 finding 10). Protected
 * accounts are refused by the policy through lockUserForChange (R4.5).
 * Setting the status it already has is a CONFLICT rather than a silent
 * success: the caller's picture of the user was stale, and saying so beats
 * moving the status date for nothing.
 */
async function setStatus(ctx: RequestContext, id: string, status: UserStatus): Promise<User> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user } = await lockUserForChange(ctx, tx, 'user.update', id, 'id');
    if (user.status === status) throw conflict(`The user is already ${status}`, { field: 'id', value: id });
    await tx.getRepository(User).update({ id: user.id }, { status, statusDate: () => 'now()', updatedBy: operator.label });
    if (status === 'INACTIVE') await endSessions(tx, user.id);
    await recordUserChange(tx, operator, user.id, status === 'ACTIVE' ? 'USER_REACTIVATED' : 'USER_DEACTIVATED', [
      { field: 'status', oldValue: user.status, newValue: status },
    ]);
    return tx.getRepository(User).findOneByOrFail({ id: user.id });
  });
}

export const deactivateUser = (ctx: RequestContext, id: string) => setStatus(ctx, id, 'INACTIVE');
export const reactivateUser = (ctx: RequestContext, id: string) => setStatus(ctx, id, 'ACTIVE');
