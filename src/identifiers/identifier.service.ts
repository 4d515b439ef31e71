import type { EntityManager } from 'typeorm';
import { badInput } from '../common/errors';
import { lockItemForChange, refuseExternal } from '../contacts/user-item';
import { markUserUpdated } from '../users/user.repository';
import type { RequestContext } from '../context';
import { inTransaction } from '../db/transaction';
import { User, UserIdentifier } from '../db/entities';
import type { IdentifierInput } from '../generated/graphql';
import { recordUserChange } from '../history/record-change';
import { findExistingCodes } from '../institutions/institution.repository';
import type { Operator } from '../policy/operator';
import { lockUserForChange } from '../users/user-target';
import { normalizeIdentifier, trimmed } from '../users/user.validation';
import { identifierTaken } from './identifier-conflict';
import { deleteIdentifier, findTakenIdentifiers, insertIdentifier, saveIdentifier } from './identifier.repository';

/**
 * Additional identifiers (R2.2): each mutation is one transaction that locks
 * the user first. The friendly uniqueness check names the value and the
 * field; the unique index and the identifier-clash trigger stay the backstop
 * for a concurrent request that takes the value between check and write
 * (`inTransaction` turns their violation into CONFLICT).
 */

/** `BARCODE:B123 (note)`: how history shows an identifier. */
export function identifierText(identifier: Pick<UserIdentifier, 'idType' | 'value' | 'note'>): string {
  return `${identifier.idType}:${identifier.value}${identifier.note ? ` (${identifier.note})` : ''}`;
}

/** The identifier's columns after R2.2/R2.4: trimmed, a configured type, a value nobody (this user included) holds yet. */
async function checkIdentifier(tx: EntityManager, institutionId: string, userId: string, input: IdentifierInput, current: UserIdentifier | null) {
  const identifier = normalizeIdentifier('input', input);
  if ((await findExistingCodes(tx, institutionId, 'IDENTIFIER_TYPE', [identifier.type])).length === 0) {
    throw badInput('input.type', `"${identifier.type}" is not a configured identifier type`);
  }
  if (identifier.value !== current?.value) {
    const [taken] = await findTakenIdentifiers(tx, institutionId, { primary: null, additional: [identifier.value] });
    if (taken !== undefined) throw identifierTaken('input.value', identifier.type, taken, userId);
  }
  return { idType: identifier.type, value: identifier.value, note: trimmed(identifier.note) };
}

/** The user's updated by/date, the history entry (R9.1) and the event (R11.3) of one identifier change. */
async function recordIdentifierChange(
  tx: EntityManager, operator: Operator, user: User, eventType: 'IDENTIFIER_ADDED' | 'IDENTIFIER_UPDATED' | 'IDENTIFIER_REMOVED', identifierId: string, oldValue: string | null, newValue: string | null,
) {
  await markUserUpdated(tx, user, operator.label);
  await recordUserChange(tx, operator, user.id, eventType, [{ field: 'identifiers', oldValue, newValue }], { identifierId });
}

export function addIdentifier(ctx: RequestContext, userId: string, input: IdentifierInput): Promise<UserIdentifier> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user } = await lockUserForChange(ctx, tx, 'user.update', userId);
    if (user.recordType === 'CONTACT') throw badInput('userId', 'Contact records have no identifiers (R1.1)');
    const values = await checkIdentifier(tx, operator.institutionId, user.id, input, null);
    const identifier = await insertIdentifier(tx, { ...values, institutionId: operator.institutionId, userId: user.id });
    await recordIdentifierChange(tx, operator, user, 'IDENTIFIER_ADDED', identifier.id, null, identifierText(identifier));
    return identifier;
  });
}

export function updateIdentifier(ctx: RequestContext, id: string, input: IdentifierInput): Promise<UserIdentifier> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user, item } = await lockItemForChange(ctx, tx, UserIdentifier, id, 'identifier');
    refuseExternal(item, 'identifier', identifierText(item));
    const oldValue = identifierText(item);
    Object.assign(item, await checkIdentifier(tx, operator.institutionId, user.id, input, item));
    if (identifierText(item) === oldValue) return item;
    await saveIdentifier(tx, item);
    await recordIdentifierChange(tx, operator, user, 'IDENTIFIER_UPDATED', item.id, oldValue, identifierText(item));
    return item;
  });
}

export function removeIdentifier(ctx: RequestContext, id: string): Promise<User> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user, item } = await lockItemForChange(ctx, tx, UserIdentifier, id, 'identifier');
    refuseExternal(item, 'identifier', identifierText(item));
    await deleteIdentifier(tx, item);
    await recordIdentifierChange(tx, operator, user, 'IDENTIFIER_REMOVED', item.id, identifierText(item), null);
    return user;
  });
}
