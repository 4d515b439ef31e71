import { badInput, notFound } from '../common/errors';
import type { RequestContext } from '../context';
import { inTransaction } from '../db/transaction';
import type { User } from '../db/entities';
import { recordUserChange } from '../history/record-change';
import { findInstitution } from '../institutions/institution.repository';
import { lockUserForChange } from '../users/user-target';
import { checkPrimaryIdentifierFormat } from '../users/user.validation';
import { identifierTaken } from './identifier-conflict';
import { findTakenIdentifiers, updatePrimaryIdentifier } from './identifier.repository';

/**
 * Renaming a user (R2.1, R2.4, R9.1 "user name"). The value must be free
 * among every primary and additional identifier of the institution, compared
 * ignoring case; a change of case only keeps the user's own value, which
 * nobody else can hold. The password is not checked again: R1.4 applies when
 * a password is set.
 */
export function changePrimaryIdentifier(ctx: RequestContext, userId: string, value: string): Promise<User> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user } = await lockUserForChange(ctx, tx, 'user.update', userId);
    if (user.recordType === 'CONTACT') throw badInput('userId', 'Contact records have no primary identifier (R1.1)');
    if (user.accountType === 'EXTERNAL') throw badInput('value', 'The SIS owns the primary identifier of an external user (R3.3): change it there');
    const next = value.trim();
    const previous = user.primaryIdentifier;
    if (!next) throw badInput('value', 'A primary identifier is required (R2.1)');
    if (next === previous) return user;
    const institution = await findInstitution(tx, operator.institutionId);
    if (!institution) throw notFound('The operator’s institution no longer exists');
    checkPrimaryIdentifierFormat('value', next, institution);
    if (next.toLowerCase() !== previous?.toLowerCase()) {
      const [taken] = await findTakenIdentifiers(tx, operator.institutionId, { primary: next, additional: [] });
      if (taken !== undefined) throw identifierTaken('value', null, taken, user.id);
    }
    await updatePrimaryIdentifier(tx, operator, user, next);
    await recordUserChange(tx, operator, user.id, 'PRIMARY_IDENTIFIER_CHANGED', [{ field: 'primaryIdentifier', oldValue: previous, newValue: next }]);
    return user;
  });
}
