import type { EntityManager } from 'typeorm';
import { badInput, notFound } from '../common/errors';
import type { RequestContext } from '../context';
import { inTransaction } from '../db/transaction';
import type { Institution, User } from '../db/entities';
import { FieldChange, recordUserChange } from '../history/record-change';
import { findInstitution } from '../institutions/institution.repository';
import type { Operator } from '../policy/operator';
import { lockUserForChange } from '../users/user-target';
import { checkContactType, contactTypes } from '../users/user.validation';
import type { ContactInput, ContactKindSpec, ContactRow } from './contact-kinds';
import { deleteContact, findContactsOfUser, insertContact, saveContact } from './contact.repository';
import { lockItemForChange, refuseExternal } from './user-item';
import { markUserUpdated } from '../users/user.repository';

/**
 * Adding, editing and removing a user's emails, addresses and phones (R1.7,
 * R3.3), written once for the three kinds (see contact-kinds.ts). Each
 * mutation is one transaction that starts by locking the user, records one
 * history entry per changed item (R9.1) and one event (R11.3).
 *
 * One item per kind is preferred. Moving the flag updates the old item before
 * the new one, so the partial unique index `user_*_one_preferred_uq` holds
 * after every statement. The flag may move off an external item: it says
 * where the user's mail goes, a choice among the items rather than the
 * item's SIS-owned content.
 */

async function institutionOf(tx: EntityManager, operator: Operator): Promise<Institution> {
  const institution = await findInstitution(tx, operator.institutionId);
  if (!institution) throw notFound('The operator’s institution no longer exists');
  return institution;
}

/** R1.7: the type allowed for the user's record type, then the kind's own checks, all named under `input`. */
function checkInput<Row extends ContactRow, Input extends ContactInput>(spec: ContactKindSpec<Row, Input>, user: User, input: Input, institution: Institution) {
  checkContactType('input', input.type, contactTypes(spec.kind, user.recordType));
  spec.check('input', input, institution);
}

/** R1.7: the user holds each email once; `item` is the one being replaced, which may keep its value. */
function checkUnique<Row extends ContactRow, Input extends ContactInput>(spec: ContactKindSpec<Row, Input>, items: Row[], input: Input, item: Row | null) {
  const unique = spec.unique;
  if (unique && items.some((other) => other.id !== item?.id && unique.key(other) === unique.key(input))) throw unique.taken(input);
}

/** Sets or clears one item's preferred flag and returns the history change it makes. */
async function setPreferred<Row extends ContactRow>(tx: EntityManager, spec: ContactKindSpec<Row, ContactInput>, row: Row, preferred: boolean): Promise<FieldChange> {
  const oldValue = spec.text(row);
  row.isPreferred = preferred;
  await saveContact(tx, spec.entity, row);
  return { field: spec.historyField, oldValue, newValue: spec.text(row) };
}

/** The user's updated by/date, one history entry per changed item and one event for the whole change. */
async function finish(tx: EntityManager, operator: Operator, user: User, eventType: 'CONTACT_ADDED' | 'CONTACT_UPDATED' | 'CONTACT_REMOVED', kind: string, itemId: string, changes: FieldChange[]) {
  if (changes.length === 0) return;
  await markUserUpdated(tx, user, operator.label);
  await recordUserChange(tx, operator, user.id, eventType, changes, { kind, itemId });
}

/** A new internal item; preferred when asked, or when the user has no preferred item of that kind yet. */
export function addContact<Row extends ContactRow, Input extends ContactInput>(
  ctx: RequestContext, spec: ContactKindSpec<Row, Input>, userId: string, input: Input,
): Promise<Row> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user } = await lockUserForChange(ctx, tx, 'user.update', userId);
    checkInput(spec, user, input, await institutionOf(tx, operator));
    const items = await findContactsOfUser(tx, spec.entity, operator.institutionId, user.id);
    checkUnique(spec, items, input, null);
    const current = items.find((c) => c.isPreferred);
    const changes: FieldChange[] = [];
    if (input.preferred && current) changes.push(await setPreferred(tx, spec, current, false));
    const row = await insertContact(tx, spec.entity, {
      ...spec.columns(input), institutionId: operator.institutionId, userId: user.id, isPreferred: !!input.preferred || !current, isExternal: false,
    } as Partial<Row>);
    changes.push({ field: spec.historyField, oldValue: null, newValue: spec.text(row) });
    await finish(tx, operator, user, 'CONTACT_ADDED', spec.kind, row.id, changes);
    return row;
  });
}

/** Replaces an internal item's values; `preferred: true` moves the flag to it, false leaves the choice as it is. */
export function updateContact<Row extends ContactRow, Input extends ContactInput>(
  ctx: RequestContext, spec: ContactKindSpec<Row, Input>, id: string, input: Input,
): Promise<Row> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user, item } = await lockItemForChange(ctx, tx, spec.entity, id, spec.label);
    refuseExternal(item, spec.label, spec.text(item));
    checkInput(spec, user, input, await institutionOf(tx, operator));
    const items = await findContactsOfUser(tx, spec.entity, operator.institutionId, user.id);
    checkUnique(spec, items, input, item);
    const changes: FieldChange[] = [];
    if (input.preferred && !item.isPreferred) {
      const current = items.find((c) => c.isPreferred);
      if (current) changes.push(await setPreferred(tx, spec, current, false));
    }
    const oldValue = spec.text(item);
    Object.assign(item, spec.columns(input), { isPreferred: item.isPreferred || !!input.preferred });
    await saveContact(tx, spec.entity, item);
    if (spec.text(item) !== oldValue) changes.push({ field: spec.historyField, oldValue, newValue: spec.text(item) });
    await finish(tx, operator, user, 'CONTACT_UPDATED', spec.kind, item.id, changes);
    return item;
  });
}

/** Removes an internal item; when it was the preferred one, the first remaining item becomes preferred. */
export function removeContact<Row extends ContactRow, Input extends ContactInput>(
  ctx: RequestContext, spec: ContactKindSpec<Row, Input>, id: string,
): Promise<User> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user, item } = await lockItemForChange(ctx, tx, spec.entity, id, spec.label);
    refuseExternal(item, spec.label, spec.text(item));
    const rest = (await findContactsOfUser(tx, spec.entity, operator.institutionId, user.id)).filter((c) => c.id !== item.id);
    if (rest.length === 0 && spec.required?.(await institutionOf(tx, operator))) {
      throw badInput('id', `The institution requires an ${spec.label} (R1.7): add another one before removing ${spec.text(item)}`);
    }
    await deleteContact(tx, spec.entity, item);
    const changes: FieldChange[] = [{ field: spec.historyField, oldValue: spec.text(item), newValue: null }];
    if (item.isPreferred && rest.length > 0) changes.push(await setPreferred(tx, spec, rest[0], true));
    await finish(tx, operator, user, 'CONTACT_REMOVED', spec.kind, item.id, changes);
    return user;
  });
}
