import type { EntityManager } from 'typeorm';
import { hashPassword } from '../auth/password';
import { endSessions } from '../auth/sessions.repository';
import { badInput } from '../common/errors';
import type { RequestContext } from '../context';
import { inTransaction } from '../db/transaction';
import { User, UserIdentifier } from '../db/entities';
import { FieldChange, recordUserChange, secretChange } from '../history/record-change';
import { lockUserForAccessChange } from './user-target';
import { passwordProblem } from './user.validation';

/** R3.2: the owner that marks an account for the next SIS synchronisation. */
export const SIS_TEMP_OWNER = 'SIS_temp';

function checkPassword(user: User, becomesExternal: boolean, password: string | null | undefined): void {
  if (password == null) return;
  if (becomesExternal) throw badInput('password', 'An account that becomes EXTERNAL has no password here: the SIS authenticates it (R3.2)');
  if (user.recordType === 'CONTACT') throw badInput('password', 'Contact records cannot have a password (R1.1)');
  const problem = passwordProblem(password, user.primaryIdentifier);
  if (problem) throw badInput('password', problem);
}

/** R3.2: every internal identifier of the user becomes external; returns how many did. */
async function externaliseIdentifiers(tx: EntityManager, user: User): Promise<number> {
  const result = await tx.getRepository(UserIdentifier).update({ userId: user.id, institutionId: user.institutionId, isExternal: false }, { isExternal: true });
  return result.affected ?? 0;
}

/**
 * toggleAccountType (R3.1, R3.2): INTERNAL <-> EXTERNAL, for User Managers
 * and User Administrators only ('user.toggleAccountType'). Becoming EXTERNAL
 * sets the owner to SIS_temp, turns every internal identifier external and
 * removes the password (the SIS authenticates now); becoming INTERNAL clears
 * the owner and may set a password. Identifiers stay as they are on the way
 * back: an external item is never turned internal here. A password set or
 * removed ends the user's sessions, so its earlier tokens stop working.
 * Either way the user's credentials change: the subset rule applies
 * (lockUserForAccessChange), as for setUserPassword.
 */
export async function toggleAccountType(ctx: RequestContext, userId: string, password: string | null | undefined): Promise<User> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user } = await lockUserForAccessChange(ctx, tx, 'user.toggleAccountType', userId);
    if (user.accountType === 'INTERNAL_WITH_EXTERNAL_AUTH') {
      throw badInput('userId', 'An internal account with external authentication cannot be toggled (R3.1: INTERNAL <-> EXTERNAL only)');
    }
    const becomesExternal = user.accountType === 'INTERNAL';
    checkPassword(user, becomesExternal, password);
    const next = becomesExternal ? 'EXTERNAL' : 'INTERNAL';
    const passwordChange: FieldChange[] = [];
    let passwordColumns = {};
    if (becomesExternal && user.passwordHash !== null) {
      passwordColumns = { passwordHash: null, passwordChangedAt: () => 'clock_timestamp()' };
      passwordChange.push(secretChange('password', null));
    } else if (!becomesExternal && password != null) {
      passwordColumns = { passwordHash: await hashPassword(password), passwordChangedAt: () => 'clock_timestamp()' };
      passwordChange.push(secretChange('password', password));
    }
    await tx.getRepository(User).update({ id: user.id }, {
      accountType: next,
      externalOwner: becomesExternal ? SIS_TEMP_OWNER : null,
      ...passwordColumns,
      updatedBy: operator.label,
    });
    if (passwordChange.length) await endSessions(tx, user.id);
    const externalised = becomesExternal ? await externaliseIdentifiers(tx, user) : 0;
    await recordUserChange(tx, operator, user.id, 'USER_ACCOUNT_TYPE_CHANGED', [
      { field: 'accountType', oldValue: user.accountType, newValue: next },
      ...passwordChange,
    ], { accountType: next, externalOwner: becomesExternal ? SIS_TEMP_OWNER : null, identifiersMadeExternal: externalised });
    return tx.getRepository(User).findOneByOrFail({ id: user.id });
  });
}
