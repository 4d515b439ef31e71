import type { EntityManager } from 'typeorm';
import { badInput } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { RequestContext } from '../context';
import type { FineActionType, FineFee, FineStatus, PaymentMethod } from '../db/entities';
import { inTransaction } from '../db/transaction';
import type { AddFineInput, EventType, PayFinesInput, PayInput } from '../generated/graphql';
import { findInstitution, findLibraries } from '../institutions/institution.repository';
import { optionalText, requiredText } from '../owned-items/owned-item-input';
import type { Operator } from '../policy/operator';
import { holdsActivePatronRole } from '../roles/role.repository';
import { lockUserForChange } from '../users/user-target';
import { describeFine, recordFineChanges } from './fine-record';
import { aboutFine, FineTarget, lockFinesForChange } from './fine-target';
import { findFinesInScope, findFineType, insertFine } from './fine.repository';
import { applyFineActions, insertFineActions } from './ledger.repository';
import { Cents, fromCents, percentOf, positiveAmount, toCents } from './money';

/**
 * Charging, paying, disputing and restoring fines (R7). Each mutation is one
 * transaction; every change is a ledger action plus the fine's new balance
 * (R7.7), a history entry and an event, written in batched statements.
 */

const ACTION = 'fine.manage';
/** A payment at the desk covers one patron's list; the bound keeps one request's locks and work small. */
export const MAX_FINES_PER_PAYMENT = 100;

function fineTarget(id: string, field: string): FineTarget {
  if (!isUuid(id)) throw badInput(field, `"${id}" is not a fine id`);
  // PostgreSQL returns uuids in lower case; compare and report them that way.
  return { id: id.toLowerCase(), field };
}

const isCredit = (fine: FineFee) => toCents(fine.originalAmount) < 0n;

/**
 * Why a fine cannot be paid or disputed, or null. A closed fine accepts
 * nothing more (R7.8); a transferred one is the bursar's to collect; a
 * disputed one is paid only once restored (R7.5), so a payment never settles
 * an amount the patron contests; a credit is owed to the patron, not by them.
 */
function refusal(fine: FineFee, verb: 'paid' | 'disputed'): string | null {
  if (fine.status === 'CLOSED') return `is CLOSED: a closed fine accepts no further action (R7.8)`;
  if (fine.status === 'TRANSFERRED') return `was TRANSFERRED to the bursar, which collects it now: it cannot be ${verb} here`;
  if (fine.status === 'IN_DISPUTE') return verb === 'paid' ? 'is IN_DISPUTE: restore it before paying it (R7.5)' : 'is already IN_DISPUTE';
  if (isCredit(fine)) return `is a credit (owed to the patron): it cannot be ${verb}`;
  // Only a waive that forgot to close a fine could leave this; a zero payment would record nothing.
  if (verb === 'paid' && toCents(fine.remainingAmount) === 0n) return 'has nothing left to pay';
  return null;
}

function refuse(target: FineTarget, fine: FineFee, verb: 'paid' | 'disputed'): void {
  const why = refusal(fine, verb);
  if (why) throw aboutFine(target, badInput(target.field, why));
}

/** The fines after the change, in the order asked (status dates as the database set them). */
async function reread(ctx: RequestContext, tx: EntityManager, operator: Operator, ids: string[]): Promise<FineFee[]> {
  const byId = new Map((await findFinesInScope(tx, operator.institutionId, ctx.policy.ownerScope(), ids)).map((f) => [f.id, f]));
  return ids.map((id) => byId.get(id)!);
}

interface Step {
  fine: FineFee;
  /** Signed effect on the remaining amount. */
  delta: Cents;
  status: FineStatus;
  payload: Record<string, unknown>;
}

/** Writes the steps of one action type: ledger rows, balances, history and events, one statement each. */
async function apply(
  tx: EntityManager,
  operator: Operator,
  actionType: FineActionType,
  eventType: EventType,
  steps: Step[],
  extra: { comment: string | null; paymentMethod?: PaymentMethod },
): Promise<void> {
  const after = steps.map((s) => ({ ...s, remaining: fromCents(toCents(s.fine.remainingAmount) + s.delta) }));
  await applyFineActions(tx, after.map((s) => ({
    institutionId: operator.institutionId, fineId: s.fine.id, actionType, amount: fromCents(s.delta),
    paymentMethod: extra.paymentMethod ?? null, comment: extra.comment, createdBy: operator.label,
  })), after.map((s) => ({ id: s.fine.id, remainingAmount: s.remaining, status: s.status })));
  await recordFineChanges(tx, operator, eventType, after.map((s) => ({
    fine: s.fine,
    oldValue: describeFine(s.fine),
    newValue: describeFine({ fineType: s.fine.fineType, remainingAmount: s.remaining, status: s.status }),
    payload: { ...s.payload, remainingAmount: s.remaining, status: s.status, comment: extra.comment },
  })));
}

/** Charges a fine or fee to a patron (R7.1, R7.2, R7.3). */
export function addFine(ctx: RequestContext, userId: string, input: AddFineInput): Promise<FineFee> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user } = await lockUserForChange(ctx, tx, ACTION, userId);
    // R7.1; contacts never hold the Patron role (R1.1), and a role switched off or expired does not count.
    if (user.recordType === 'CONTACT' || !(await holdsActivePatronRole(tx, operator.institutionId, user.id))) {
      throw badInput('userId', 'Only users holding an active Patron role have fines and fees (R7.1)');
    }
    const code = requiredText('input.type', input.type, 100);
    const type = await findFineType(tx, operator.institutionId, code);
    if (!type) throw badInput('input.type', `"${code}" is not a configured fine/fee type`);
    // The institution's maximum bounds what is charged; payments and waives are bounded by the balance they reduce.
    const institution = await findInstitution(tx, operator.institutionId);
    const entered = positiveAmount('input.amount', input.amount, institution?.maximumAmount);
    const comment = optionalText('input.comment', input.comment);
    if (type.isCredit && !comment) throw badInput('input.comment', 'A credit needs a comment (R7.3)');
    const itemBarcode = optionalText('input.itemBarcode', input.itemBarcode, 200);
    const ownerLibraryId = input.ownerLibraryId ?? null;
    if (ownerLibraryId !== null) {
      if (!isUuid(ownerLibraryId) || (await findLibraries(tx, operator.institutionId, [ownerLibraryId])).length === 0) {
        throw badInput('input.ownerLibraryId', 'Not a library of your institution');
      }
      if (!type.allowsLibraryOwner) {
        throw badInput('input.ownerLibraryId', `${type.code} does not allow a library owner: its fines belong to the institution (R7.2)`);
      }
    }
    ctx.policy.assertOwner(ACTION, ownerLibraryId, user);
    // R7.3: a credit is owed to the patron, so it is stored negative and lowers the balance.
    const amount = fromCents(type.isCredit ? -entered : entered);
    const fine = await insertFine(tx, {
      institutionId: operator.institutionId, userId: user.id, fineType: type.code, ownerLibraryId,
      originalAmount: amount, remainingAmount: amount,
      // The amount includes the VAT; the VAT is the type's rate of it, to the cent (as the seeds compute it).
      vatAmount: fromCents(percentOf(toCents(amount), type.vatRate)),
      status: 'ACTIVE', comment, itemBarcode, createdBy: operator.label,
    });
    // R7.7: the CREATE action carries the whole original amount, so the ledger sums to the balance from the start.
    await insertFineActions(tx, [{ institutionId: operator.institutionId, fineId: fine.id, actionType: 'CREATE', amount, comment, createdBy: operator.label }]);
    await recordFineChanges(tx, operator, 'FINE_ADDED', [{
      fine, oldValue: null, newValue: describeFine(fine), payload: { type: type.code, amount, vatAmount: fine.vatAmount, comment },
    }]);
    return (await reread(ctx, tx, operator, [fine.id]))[0];
  });
}

/** Pays part or all of one fine (R7.8). */
export function payFine(ctx: RequestContext, id: string, input: PayInput): Promise<FineFee> {
  return inTransaction(ctx.db, async (tx) => {
    ctx.policy.assert(ACTION);
    const target = fineTarget(id, 'id');
    const asked = input.amount == null ? null : positiveAmount('input.amount', input.amount);
    const comment = optionalText('input.comment', input.comment);
    const { operator, fines: [fine] } = await lockFinesForChange(ctx, tx, ACTION, [target]);
    refuse(target, fine, 'paid');
    const remaining = toCents(fine.remainingAmount);
    const cents = asked ?? remaining;
    if (cents > remaining) {
      throw aboutFine(target, badInput('input.amount', `has ${fromCents(remaining)} left: at most that can be paid, not ${fromCents(cents)} (R7.8)`), 'input.amount');
    }
    await apply(tx, operator, 'PAY', 'FINE_PAID', [payment(fine, cents, input.method)], { comment, paymentMethod: input.method });
    return (await reread(ctx, tx, operator, [fine.id]))[0];
  });
}

/** A payment of `cents`: a fine paid in full is CLOSED (R7.8). */
function payment(fine: FineFee, cents: Cents, method: PaymentMethod): Step {
  const closes = cents === toCents(fine.remainingAmount);
  return { fine, delta: -cents, status: closes ? 'CLOSED' : 'ACTIVE', payload: { amount: fromCents(cents), method } };
}

/** Pays several fines in full, all or nothing (R7.8). */
export function payFines(ctx: RequestContext, input: PayFinesInput): Promise<FineFee[]> {
  return inTransaction(ctx.db, async (tx) => {
    ctx.policy.assert(ACTION);
    if (input.fineIds.length === 0) throw badInput('input.fineIds', 'List at least one fine to pay');
    if (input.fineIds.length > MAX_FINES_PER_PAYMENT) throw badInput('input.fineIds', `At most ${MAX_FINES_PER_PAYMENT} fines per payment`);
    const seen = new Set<string>();
    const targets = input.fineIds.map((id, i) => {
      const target = fineTarget(id, `input.fineIds[${i}]`);
      if (seen.has(target.id)) throw badInput(target.field, `Fine ${target.id} is listed twice`);
      seen.add(target.id);
      return target;
    });
    const comment = optionalText('input.comment', input.comment);
    const { operator, fines } = await lockFinesForChange(ctx, tx, ACTION, targets);
    // Every fine is judged before anything is written: one refusal leaves all of them unpaid.
    fines.forEach((fine, i) => refuse(targets[i], fine, 'paid'));
    await apply(tx, operator, 'PAY', 'FINE_PAID', fines.map((f) => payment(f, toCents(f.remainingAmount), input.method)), { comment, paymentMethod: input.method });
    return reread(ctx, tx, operator, fines.map((f) => f.id));
  });
}

/** R7.5: an ACTIVE fine is disputed, with the patron's reason; its amount leaves the active balance and the debt limit. */
export function disputeFine(ctx: RequestContext, id: string, comment: string): Promise<FineFee> {
  return inTransaction(ctx.db, async (tx) => {
    ctx.policy.assert(ACTION);
    const target = fineTarget(id, 'id');
    const text = requiredText('comment', comment);
    const { operator, fines: [fine] } = await lockFinesForChange(ctx, tx, ACTION, [target]);
    refuse(target, fine, 'disputed');
    await apply(tx, operator, 'DISPUTE', 'FINE_DISPUTED', [{ fine, delta: 0n, status: 'IN_DISPUTE', payload: {} }], { comment: text });
    return (await reread(ctx, tx, operator, [fine.id]))[0];
  });
}

/** R7.5: only a disputed fine is restored, back to ACTIVE with its remaining amount. */
export function restoreFine(ctx: RequestContext, id: string, comment: string | null | undefined): Promise<FineFee> {
  return inTransaction(ctx.db, async (tx) => {
    ctx.policy.assert(ACTION);
    const target = fineTarget(id, 'id');
    const text = optionalText('comment', comment);
    const { operator, fines: [fine] } = await lockFinesForChange(ctx, tx, ACTION, [target]);
    if (fine.status !== 'IN_DISPUTE') {
      throw aboutFine(target, badInput(target.field, `is ${fine.status}: only a fine IN_DISPUTE can be restored (R7.5)`));
    }
    await apply(tx, operator, 'RESTORE', 'FINE_RESTORED', [{ fine, delta: 0n, status: 'ACTIVE', payload: {} }], { comment: text });
    return (await reread(ctx, tx, operator, [fine.id]))[0];
  });
}
