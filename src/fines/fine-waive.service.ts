import { GraphQLError } from 'graphql';
import type { EntityManager } from 'typeorm';
import { badInput, isKnownError, notFound } from '../common/errors';
import type { RequestContext } from '../context';
import type { FineFee } from '../db/entities';
import { inTransaction } from '../db/transaction';
import type { WaiveFinesInput } from '../generated/graphql';
import type { Operator } from '../policy/operator';
import { findUsersByIds } from '../users/user.repository';
import { describeFine, recordFineChanges } from './fine-record';
import { aboutFine, FineTarget, lockFinesForChange } from './fine-target';
import { checkFineIds, overCap, parseWaiveInput, WaiveRequest } from './fine-waive.input';
import { findFilteredFineIds, findWaiveSettings, WaiveFilter } from './fine-waive.repository';
import { applyFineActions } from './ledger.repository';
import { Cents, fromCents, sumCents, toCents } from './money';

/**
 * waiveFines (R7.4): up to the institution's cap of fines, all or nothing, in
 * one transaction. The fines, listed or chosen by a filter, are locked the one
 * way every action on existing fines locks them (lockFinesForChange): only
 * fines in the institution and the operator's owner scope, so a fine the
 * operator may not see is never locked (R5.2), in id order, so overlapping
 * waives and payments queue rather than deadlock, before their balances are
 * read. Every fine is checked before anything is written, and each write step
 * is one batched statement: a call costs the same statements for 1 fine as
 * for 100. The user rows are read but never locked or updated: waiting only
 * on fine rows, in id order, a waive cannot deadlock with a change that locks
 * the user first.
 */

export interface WaiveResult {
  fines: FineFee[];
  waivedTotal: string;
  count: number;
}

interface Waive {
  fine: FineFee;
  amount: Cents;
  remainingAfter: Cents;
}

const ACTION = 'fine.waive';

/** The listed fines, checked for shape and counted against the cap before anything is read or locked (R7.4). */
function listedTargets(fineIds: string[], limit: number): FineTarget[] {
  if (fineIds.length > limit) throw overCap('input.fineIds', limit, `${fineIds.length} fines were listed`);
  checkFineIds(fineIds);
  // PostgreSQL returns uuids in lower case; compare and report them that way.
  return fineIds.map((id, i) => ({ id: id.toLowerCase(), field: `input.fineIds[${i}]` }));
}

/**
 * The fines a filter selects, not yet locked: the user must be one the
 * operator may change (access before content), then the matching fines in the
 * owner scope are counted against the cap (one more than the cap is read, at
 * most, and nothing is locked when it is exceeded).
 */
async function filteredTargets(ctx: RequestContext, tx: EntityManager, operator: Operator, filter: WaiveFilter, limit: number): Promise<FineTarget[]> {
  const field = 'input.filter.userId';
  const [user] = await findUsersByIds(tx, operator.institutionId, [filter.userId]);
  if (!user) throw notFound('No such user in your institution', { field });
  try {
    ctx.policy.assertCanChange(ACTION, user);
  } catch (e) {
    throw isKnownError(e) ? new GraphQLError(e.message, { extensions: { ...e.extensions, field } }) : e;
  }
  const ids = await findFilteredFineIds(tx, operator.institutionId, ctx.policy.ownerScope(), filter, limit + 1);
  if (ids.length > limit) throw overCap('input.filter', limit, `More than ${limit} fines match the filter`);
  return ids.map((id) => ({ id, field: 'input.filter' }));
}

/**
 * Whether one fine may be waived by this much: only an ACTIVE charge with
 * enough left. Disputed fines are restored first (R7.5); transferred ones
 * belong to the bursar; closed ones accept nothing (R7.8).
 */
function planWaive(target: FineTarget, fine: FineFee, requested: Cents | null): Waive {
  const refuse = (why: string, field = target.field) => aboutFine(target, badInput(field, why), field);
  if (fine.status !== 'ACTIVE') {
    throw refuse({
      CLOSED: 'is CLOSED: a fully paid or waived fine accepts no further action (R7.8)',
      IN_DISPUTE: 'is IN_DISPUTE: only ACTIVE fines can be waived; restore it first (R7.5)',
      TRANSFERRED: 'is TRANSFERRED to the bursar: only ACTIVE fines can be waived',
    }[fine.status as Exclude<FineFee['status'], 'ACTIVE'>]);
  }
  const remaining = toCents(fine.remainingAmount);
  if (remaining < 0n) throw refuse(`is a credit (${fromCents(remaining)}): credits are owed to the patron and cannot be waived (R7.3)`);
  if (remaining === 0n) throw refuse('has nothing left to waive');
  const amount = requested ?? remaining;
  if (amount > remaining) {
    throw refuse(`has ${fromCents(remaining)} left: at most that can be waived, not ${fromCents(amount)} (R7.4)`, 'input.amount');
  }
  return { fine, amount, remainingAfter: remaining - amount };
}

/**
 * The ledger (R7.7), balances, history (R9.1) and events (R11.3): one batched
 * statement each, whatever the number of fines. History and events take the
 * shape every fine change has (fine-record.ts): one entry and one FINE_WAIVED
 * event per fine, carrying the fine's owner, so readers and subscribers under
 * library independence see exactly the fines they may see (R5.2).
 */
async function write(tx: EntityManager, operator: Operator, request: WaiveRequest, waives: Waive[], now: Date): Promise<FineFee[]> {
  const after = waives.map((w) => {
    const status = w.remainingAfter === 0n ? 'CLOSED' : 'ACTIVE';
    const fine: FineFee = { ...w.fine, remainingAmount: fromCents(w.remainingAfter), status, statusDate: status === w.fine.status ? w.fine.statusDate : now };
    return { waive: w, fine };
  });
  await applyFineActions(tx, waives.map((w) => ({
    institutionId: operator.institutionId, fineId: w.fine.id, actionType: 'WAIVE' as const, amount: fromCents(-w.amount),
    reason: request.reason, comment: request.comment, createdBy: operator.label,
  })), after.map(({ fine }) => ({ id: fine.id, remainingAmount: fine.remainingAmount, status: fine.status })));
  await recordFineChanges(tx, operator, 'FINE_WAIVED', after.map(({ waive, fine }) => ({
    fine,
    oldValue: describeFine(waive.fine),
    newValue: describeFine(fine),
    payload: { amount: fromCents(waive.amount), reason: request.reason, comment: request.comment, remainingAmount: fine.remainingAmount, status: fine.status },
  })));
  return after.map((a) => a.fine);
}

export async function waiveFines(ctx: RequestContext, input: WaiveFinesInput): Promise<WaiveResult> {
  const operator = ctx.policy.assert(ACTION);
  const request = parseWaiveInput(input);
  return inTransaction(ctx.db, async (tx) => {
    const settings = await findWaiveSettings(tx, operator.institutionId, request.reason);
    const targets = request.target.kind === 'ids'
      ? listedTargets(request.target.fineIds, settings.limit)
      : await filteredTargets(ctx, tx, operator, request.target.filter, settings.limit);
    // The one way fines are locked (fine-target.ts): only fines in the owner scope are locked, in id order, and
    // the policy judges every fine's user and owner before anything is written: access first, as for any change.
    const { fines } = await lockFinesForChange(ctx, tx, ACTION, targets);
    if (!settings.reasonKnown) throw badInput('input.reason', `"${request.reason}" is not a configured waive reason`);
    // Then the content, on the locked rows: a fine that changed since the filter chose it refuses the batch whole.
    const waives = fines.map((fine, i) => planWaive(targets[i], fine, request.amount));
    const written = await write(tx, operator, request, waives, settings.now);
    return { fines: written, waivedTotal: fromCents(sumCents(waives.map((w) => w.amount))), count: waives.length };
  });
}
