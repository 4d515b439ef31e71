import { badInput, unauthenticated } from '../common/errors';
import { lockouts } from '../observability/metrics';
import type { RequestContext } from '../context';
import { inTransaction } from '../db/transaction';
import { appendEvents } from '../events/outbox.repository';
import { recordHistory } from '../history/history.repository';
import { passwordProblem } from '../users/user.validation';
import { loginGuard } from './login-guard';
import { hashPassword, verifyPassword } from './password';
import { lockPasswordRow, storePassword } from './password.repository';

/**
 * An operator changes their own password (R1.4). The history records the
 * fact, never the value (R9.1). Earlier tokens stop working; the caller gets
 * a new one and no longer has to change the password.
 *
 * One transaction from the row lock to the outbox (issue 9 finding 11):
 * concurrent changes of the same password queue on the lock, and each checks
 * the current password against what the one before it stored, so exactly one
 * of two changes from the same current password wins and the other is told
 * the current password is wrong. Wrong current passwords are counted per
 * user by the login guard, with the limits of failed sign-ins; beyond them
 * changePassword answers TOO_MANY_REQUESTS without checking anything.
 */
export async function changePassword(ctx: RequestContext, currentPassword: string, newPassword: string) {
  const operator = ctx.policy.staffSession('it has no password');
  const guard = loginGuard(ctx.db);
  const admission = await guard.admitPasswordChange(operator.id);
  if ('refusal' in admission) throw admission.refusal.error;
  let outcome: 'failed' | 'succeeded' | 'cancelled' = 'cancelled';
  try {
    const sessionsEpoch = await inTransaction(ctx.db, async (tx) => {
      const current = await lockPasswordRow(tx, operator.id);
      const matches = current ? await verifyPassword(current.hash, currentPassword) : false;
      outcome = matches ? 'succeeded' : 'failed';
      if (!current || !matches) throw unauthenticated('The current password is wrong');
      if (current.accountType !== 'INTERNAL') throw badInput('newPassword', 'Only internal accounts have a password here');
      const problem = passwordProblem(newPassword, current.primaryIdentifier);
      if (problem) throw badInput('newPassword', problem);
      if (newPassword === currentPassword) throw badInput('newPassword', 'The new password must differ from the current one');
      const epoch = await storePassword(tx, operator.id, await hashPassword(newPassword), operator.label);
      await recordHistory(tx, [{ institutionId: operator.institutionId, userId: operator.id, field: 'password', oldValue: null, newValue: '(changed)', changedBy: operator.label }]);
      await appendEvents(tx, [{ institutionId: operator.institutionId, eventType: 'PASSWORD_CHANGED', aggregateType: 'USER', aggregateId: operator.id, payload: {}, actor: operator.label }]);
      return epoch;
    });
    ctx.actAs({ ...operator, passwordChangeRequired: false });
    const issued = ctx.tokens.sign({ sub: operator.id, sva: sessionsEpoch });
    const user = await ctx.loaders.userById.load(operator.id);
    return { ...issued, user: user!, passwordChangeRequired: false };
  } finally {
    if (await guard.settle(admission.ticket, outcome)) lockouts.inc();
  }
}
