import type { RequestContext } from '../context';
import { User } from '../db/entities';
import { inTransaction } from '../db/transaction';
import { appendEvents } from '../events/outbox.repository';
import { lockUserForAccessChange } from '../users/user-target';
import { loginGuard } from './login-guard';
import { findSignInIdentifiers } from './operator.repository';
import { endSessions } from './sessions.repository';

/**
 * endSessions (issue 9 finding 10): every token of the user stops working at
 * its next request, for good. Any operator may end its own sessions (a lost
 * laptop); ending someone else's is a change of that user's access, so it
 * needs what setting its password needs ('user.setCredentials' and the
 * subset rule, never a protected account).
 */
export async function endUserSessions(ctx: RequestContext, userId: string): Promise<User> {
  const self = ctx.policy.ownUser(userId);
  return inTransaction(ctx.db, async (tx) => {
    const operator = self ?? (await lockUserForAccessChange(ctx, tx, 'user.setCredentials', userId)).operator;
    await endSessions(tx, userId);
    await appendEvents(tx, [{
      institutionId: operator.institutionId, eventType: 'USER_SESSIONS_ENDED', aggregateType: 'USER', aggregateId: userId, payload: {}, actor: operator.label,
    }]);
    return tx.getRepository(User).findOneByOrFail({ id: userId });
  });
}

/**
 * unlockUser (issue 9 finding 7): lifts the sign-in lockout and waits of a
 * user (its account, each of its identifiers, its changePassword count). A
 * change of the user's access: 'user.setCredentials' and the subset rule, so
 * an operator cannot unlock someone more powerful than itself. The lockout
 * lives in the throttle store, outside the transaction, so it is lifted once
 * the event is committed.
 */
export async function unlockUser(ctx: RequestContext, userId: string): Promise<User> {
  const { user, identifiers } = await inTransaction(ctx.db, async (tx) => {
    const { operator, user } = await lockUserForAccessChange(ctx, tx, 'user.setCredentials', userId);
    await appendEvents(tx, [{
      institutionId: operator.institutionId, eventType: 'USER_UNLOCKED', aggregateType: 'USER', aggregateId: user.id, payload: {}, actor: operator.label,
    }]);
    return { user, identifiers: await findSignInIdentifiers(tx, user.id) };
  });
  await loginGuard(ctx.db).unlock(user.id, identifiers);
  return user;
}
