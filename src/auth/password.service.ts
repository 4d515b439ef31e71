import { badInput, unauthenticated } from '../common/errors';
import type { RequestContext } from '../context';
import { inTransaction } from '../db/transaction';
import { appendEvents } from '../events/outbox.repository';
import { recordHistory } from '../history/history.repository';
import { passwordProblem } from '../users/user.validation';
import { hashPassword, verifyPassword } from './password';
import { findPasswordHash, storePassword } from './password.repository';

/**
 * An operator changes their own password (R1.4). The history records the
 * fact, never the value (R9.1). Earlier tokens stop working; the caller gets
 * a new one and no longer has to change the password.
 */
export async function changePassword(ctx: RequestContext, currentPassword: string, newPassword: string) {
  const operator = ctx.policy.staffSession('it has no password');
  const current = await findPasswordHash(ctx.db.manager, operator.id);
  if (!current || !(await verifyPassword(current.hash, currentPassword))) throw unauthenticated('The current password is wrong');
  if (current.accountType !== 'INTERNAL') throw badInput('newPassword', 'Only internal accounts have a password here');
  const problem = passwordProblem(newPassword, current.primaryIdentifier);
  if (problem) throw badInput('newPassword', problem);
  if (newPassword === currentPassword) throw badInput('newPassword', 'The new password must differ from the current one');
  const hash = await hashPassword(newPassword);
  const changedAt = await inTransaction(ctx.db, async (tx) => {
    const at = await storePassword(tx, operator.id, hash, operator.label);
    await recordHistory(tx, [{ institutionId: operator.institutionId, userId: operator.id, field: 'password', oldValue: null, newValue: '(changed)', changedBy: operator.label }]);
    await appendEvents(tx, [{ institutionId: operator.institutionId, eventType: 'PASSWORD_CHANGED', aggregateType: 'USER', aggregateId: operator.id, payload: {}, actor: operator.label }]);
    return at;
  });
  ctx.actAs({ ...operator, passwordChangeRequired: false });
  const issued = ctx.tokens.sign({ sub: operator.id, pwd: changedAt.getTime() });
  const user = await ctx.loaders.userById.load(operator.id);
  return { ...issued, user: user!, passwordChangeRequired: false };
}
