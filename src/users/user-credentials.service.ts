import { hashPassword } from '../auth/password';
import { endSessions } from '../auth/sessions.repository';
import { badInput } from '../common/errors';
import type { RequestContext } from '../context';
import { User } from '../db/entities';
import { inTransaction } from '../db/transaction';
import { recordUserChange, secretChange } from '../history/record-change';
import { keptFieldsAfterEdit } from './kept-fields';
import { lockUserForAccessChange } from './user-target';
import { checkPin, passwordProblem } from './user.validation';

/**
 * Another user's credentials: its password and its PIN (self-check
 * machines). Setting one is a change of the user's access, so it goes
 * through lockUserForAccessChange: 'user.setCredentials' for the user's
 * record type, never a protected account, never oneself (changePassword is
 * for that), and only when the operator could grant every role the user
 * holds (the subset rule). History records the fact, never the value (R9.1).
 */

/** Sets (or, with null, removes) an internal account's password; the user's earlier tokens stop working. */
export async function setUserPassword(ctx: RequestContext, userId: string, password: string | null): Promise<User> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user } = await lockUserForAccessChange(ctx, tx, 'user.setCredentials', userId);
    if (user.recordType === 'CONTACT') throw badInput('password', 'Contact records cannot have a password (R1.1)');
    if (user.accountType !== 'INTERNAL') throw badInput('password', `Only INTERNAL accounts have a password here: this one is ${user.accountType} (R1.4)`);
    if (password === null && user.passwordHash === null) return user;
    const problem = password === null ? null : passwordProblem(password, user.primaryIdentifier);
    if (problem) throw badInput('password', problem);
    await tx.getRepository(User).update({ id: user.id }, {
      passwordHash: password === null ? null : await hashPassword(password),
      passwordChangedAt: () => 'clock_timestamp()',
      updatedBy: operator.label,
    });
    await endSessions(tx, user.id);
    await recordUserChange(tx, operator, user.id, 'USER_PASSWORD_SET', [secretChange('password', password)]);
    return tx.getRepository(User).findOneByOrFail({ id: user.id });
  });
}

/**
 * Sets (or, with null, removes) a user's four-digit PIN (R1.4); external accounts too, as R3.3 lets staff keep a PIN:
 * a PIN other than the SIS's is kept from the next synchronisation (keptFieldsAfterEdit).
 */
export async function setUserPin(ctx: RequestContext, userId: string, pin: string | null): Promise<User> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user } = await lockUserForAccessChange(ctx, tx, 'user.setCredentials', userId);
    if (user.recordType === 'CONTACT') throw badInput('pin', 'Contact records cannot have a PIN (R1.1)');
    checkPin(pin, 'pin');
    if (pin === user.pinNumber) return user;
    const keptFields = keptFieldsAfterEdit(user, { pinNumber: pin });
    await tx.getRepository(User).update({ id: user.id }, { pinNumber: pin, ...(keptFields ? { keptFields } : {}), updatedBy: operator.label });
    await recordUserChange(tx, operator, user.id, 'USER_PIN_SET', [secretChange('pinNumber', pin)]);
    return tx.getRepository(User).findOneByOrFail({ id: user.id });
  });
}
