import type { EntityManager } from 'typeorm';
import { badInput, notFound } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { RequestContext } from '../context';
import { inTransaction } from '../db/transaction';
import type { User } from '../db/entities';
import { FieldChange, recordUserChange } from '../history/record-change';
import { findLibraries } from '../institutions/institution.repository';
import type { Operator } from '../policy/operator';
import type { Action } from '../policy/permissions';
import { lockUserForChange } from '../users/user-target';
import { markUserUpdated } from '../users/user.repository';
import type { OwnedItemKind, OwnedItemRow, OwnerInput } from './owned-item-kind';
import { deleteOwnedItemRow, findOwnedItem, insertOwnedItemRow, updateOwnedItemRow } from './owned-item.repository';

/**
 * The life cycle shared by notes, blocks and statistics (R5, R6, R3.3, R9):
 * each change runs in one transaction that locks the user, checks the owner
 * against the operator's scopes (R5.3), writes the item and records it.
 */

type Kind<Row extends OwnedItemRow, Input extends OwnerInput> = OwnedItemKind<Row, Input>;

/** The owner an input asks for: a library of the operator's institution within the operator's scopes, or the institution (null). */
async function resolveOwner(ctx: RequestContext, tx: EntityManager, operator: Operator, action: Action, user: User, input: OwnerInput): Promise<string | null> {
  const libraryId = input.ownerLibraryId ?? null;
  if (libraryId !== null && (!isUuid(libraryId) || (await findLibraries(tx, operator.institutionId, [libraryId])).length === 0)) {
    throw badInput('input.ownerLibraryId', 'Not a library of your institution');
  }
  ctx.policy.assertOwner(action, libraryId, user);
  return libraryId;
}

/**
 * Finds the item the operator may see (R5.2: anything else is NOT_FOUND),
 * locks its user, and refuses items the operator may not change: owned
 * outside the scopes granting the action (R5.3) or external (R3.3).
 */
async function lockItemForChange<Row extends OwnedItemRow, Input extends OwnerInput>(ctx: RequestContext, tx: EntityManager, kind: Kind<Row, Input>, id: string) {
  const institutionId = ctx.policy.assert(kind.action).institutionId;
  if (!isUuid(id)) throw badInput('id', `Not a ${kind.name} id`);
  const scope = ctx.policy.ownerScope();
  const seen = await findOwnedItem(tx, kind.entity, institutionId, scope, id);
  if (!seen) throw notFound(`No such ${kind.name}`);
  const { operator, user } = await lockUserForChange(ctx, tx, kind.action, seen.userId);
  // Read again under the user's lock: a concurrent change may have removed it meanwhile.
  const item = await findOwnedItem(tx, kind.entity, institutionId, scope, id, { lock: true });
  if (!item) throw notFound(`No such ${kind.name}`);
  ctx.policy.assertOwner(kind.action, item.ownerLibraryId, user);
  // Same refusal as external identifiers and contact items: the id names something staff may not change.
  if (item.isExternal) throw badInput('id', `This ${kind.name} is external (it comes from the SIS) and cannot be changed or removed here (R3.3)`);
  return { operator, user, item };
}

/**
 * History (for kinds R9.1 lists) and one event per owner. A move between
 * owners is recorded as leaving the old owner and arriving at the new one,
 * so history and events never show an operator an owner outside its scope.
 */
async function record<Row extends OwnedItemRow, Input extends OwnerInput>(
  tx: EntityManager,
  operator: Operator,
  kind: Kind<Row, Input>,
  user: User,
  verb: 'ADDED' | 'UPDATED' | 'REMOVED',
  before: Row | null,
  after: Row | null,
): Promise<void> {
  const change = (from: Row | null, to: Row | null): FieldChange => ({
    field: kind.field,
    oldValue: from && kind.describe(from),
    newValue: to && kind.describe(to),
    ownerLibraryId: (to ?? from)!.ownerLibraryId,
  });
  const moved = before !== null && after !== null && before.ownerLibraryId !== after.ownerLibraryId;
  const changes = moved ? [change(before, null), change(null, after)] : [change(before, after)];
  const itemId = (after ?? before)!.id;
  const recorded = changes.filter((c) => c.oldValue !== c.newValue);
  for (const c of recorded) {
    await recordUserChange(tx, operator, user.id, `${kind.eventPrefix}_${verb}`, [c], { [`${kind.name}Id`]: itemId, ownerLibraryId: c.ownerLibraryId },
      { history: kind.inHistory });
  }
  // The user's "updated by / updated" is seen by every operator: a change that only some libraries may see (R5.2)
  // must not show through it, so only changes of institution-owned items touch the user.
  if (recorded.length > 0 && kind.touchesUser && recorded.every((c) => c.ownerLibraryId === null)) {
    await markUserUpdated(tx, user, operator.label);
  }
}

export async function addOwnedItem<Row extends OwnedItemRow, Input extends OwnerInput>(
  ctx: RequestContext, kind: Kind<Row, Input>, userId: string, input: Input,
): Promise<Row> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user } = await lockUserForChange(ctx, tx, kind.action, userId);
    const refusal = kind.refuseUser(user);
    if (refusal) throw badInput('userId', refusal);
    const ownerLibraryId = await resolveOwner(ctx, tx, operator, kind.action, user, input);
    const values = await kind.values(tx, operator.institutionId, input);
    const item = await insertOwnedItemRow(tx, kind.entity, {
      ...values,
      institutionId: operator.institutionId,
      userId: user.id,
      ownerLibraryId,
      // R3.3: what staff add is internal, even on an external user; only the SIS adds external items.
      isExternal: false,
      ...(kind.recordsCreator ? { createdBy: operator.label } : {}),
    } as Partial<Row>);
    await record(tx, operator, kind, user, 'ADDED', null, item);
    return item;
  });
}

/** Replaces the item's content and owner (the input is the whole item, as on add). */
export async function updateOwnedItem<Row extends OwnedItemRow, Input extends OwnerInput>(
  ctx: RequestContext, kind: Kind<Row, Input>, id: string, input: Input,
): Promise<Row> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user, item } = await lockItemForChange(ctx, tx, kind, id);
    const ownerLibraryId = await resolveOwner(ctx, tx, operator, kind.action, user, input);
    const values = { ...(await kind.values(tx, operator.institutionId, input)), ownerLibraryId } as Partial<Row>;
    await updateOwnedItemRow(tx, kind.entity, item.id, values);
    const updated = { ...item, ...values } as Row;
    await record(tx, operator, kind, user, 'UPDATED', item, updated);
    return updated;
  });
}

/** Removes the item; returns its user. */
export async function removeOwnedItem<Row extends OwnedItemRow, Input extends OwnerInput>(ctx: RequestContext, kind: Kind<Row, Input>, id: string): Promise<User> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user, item } = await lockItemForChange(ctx, tx, kind, id);
    await deleteOwnedItemRow(tx, kind.entity, item.id);
    await record(tx, operator, kind, user, 'REMOVED', item, null);
    return user;
  });
}
