import { GraphQLError } from 'graphql';
import type { EntityManager } from 'typeorm';
import { badInput, ErrorCode, isKnownError } from '../common/errors';
import type { RequestContext } from '../context';
import type { FineFee, User } from '../db/entities';
import { inTransaction } from '../db/transaction';
import type { WaiveFinesInput } from '../generated/graphql';
import type { Operator } from '../policy/operator';
import { canSeeOwned } from '../policy/scope';
import { describeFine, recordFineChanges } from './fine-record';
import { checkFineIds, overCap, parseWaiveInput, WaiveRequest } from './fine-waive.input';
import { findUsersById, findWaiveSettings, lockFilteredFines, WaiveFilter } from './fine-waive.repository';
import { insertFineActions, lockFines, updateFineBalances } from './ledger.repository';
import { Cents, fromCents, sumCents, toCents } from './money';

/**
 * waiveFines (R7.4): up to the institution's cap of fines, all or nothing, in
 * one transaction. The fines are locked (in id order, so overlapping waives
 * and payments queue rather than deadlock) before their balances are read,
 * every fine is checked before anything is written, and each write step is one
 * batched statement: a call costs the same statements for 1 fine as for 100.
 * The user rows are read but never locked or updated: waiting only on fine
 * rows, in id order, a waive cannot deadlock with a payment that locks the
 * user first.
 */

export interface WaiveResult {
  fines: FineFee[];
  waivedTotal: string;
  count: number;
}

/** A fine chosen for waiving, its user, and the input path that named it (for refusals). */
interface Target {
  fine: FineFee;
  user: User;
  field: string;
}

interface Waive extends Target {
  amount: Cents;
  remainingAfter: Cents;
}

const ACTION = 'fine.waive';

/** A refusal about one fine: the input path that named it and the fine's id, so a client can point at it. */
function fineRefusal(code: ErrorCode, field: string, fineId: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, field, fineId } });
}

/** Asks the policy, and when it refuses, says which fine the refusal is about. */
function naming(field: string, fineId: string | null, check: () => void): void {
  try {
    check();
  } catch (e) {
    if (!isKnownError(e)) throw e;
    const about = fineId ? `Fine ${fineId}: ` : '';
    throw new GraphQLError(`${about}${e.message}`, { extensions: { ...e.extensions, field, ...(fineId ? { fineId } : {}) } });
  }
}

/** The listed fines, locked; unknown, other institutions' and out-of-scope fines are all "not found" (R5.2), naming the position. */
async function lockListed(ctx: RequestContext, tx: EntityManager, operator: Operator, fineIds: string[], limit: number): Promise<Target[]> {
  if (fineIds.length > limit) throw overCap('input.fineIds', limit, `${fineIds.length} fines were listed`);
  checkFineIds(fineIds);
  const scope = ctx.policy.ownerScope();
  const visible = new Map((await lockFines(tx, operator.institutionId, fineIds))
    .filter((f) => canSeeOwned(scope, f.ownerLibraryId))
    .map((f) => [f.id, f]));
  const users = new Map((await findUsersById(tx, operator.institutionId, [...new Set([...visible.values()].map((f) => f.userId))])).map((u) => [u.id, u]));
  return fineIds.map((id, i) => {
    const fine = visible.get(id.toLowerCase());
    const field = `input.fineIds[${i}]`;
    if (!fine) throw fineRefusal('NOT_FOUND', field, id, `No fine ${id} in your institution and owner scope`);
    return { fine, user: users.get(fine.userId)!, field };
  });
}

/** The fines a filter selects, locked; more than the cap is refused before anything is written (one more than the cap is locked, at most). */
async function lockFiltered(ctx: RequestContext, tx: EntityManager, operator: Operator, filter: WaiveFilter, limit: number): Promise<Target[]> {
  const [user] = await findUsersById(tx, operator.institutionId, [filter.userId]);
  if (!user) throw fineRefusal('NOT_FOUND', 'input.filter.userId', filter.userId, 'No such user in your institution');
  naming('input.filter.userId', null, () => ctx.policy.assertCanChange(ACTION, user));
  const fines = await lockFilteredFines(tx, operator.institutionId, ctx.policy.ownerScope(), filter, limit + 1);
  if (fines.length > limit) throw overCap('input.filter', limit, `More than ${limit} fines match the filter`);
  return fines.map((fine) => ({ fine, user, field: 'input.filter' }));
}

/** The policy's word on one fine: the operator may change its user (protected, restricted) and its owner (R5.3). */
function authorize(ctx: RequestContext, { fine, user, field }: Target): void {
  naming(field, fine.id, () => {
    ctx.policy.assertCanChange(ACTION, user);
    ctx.policy.assertOwner(ACTION, fine.ownerLibraryId, user);
  });
}

/**
 * Whether one fine may be waived by this much: only an ACTIVE charge with
 * enough left. Disputed fines are restored first (R7.5); transferred ones
 * belong to the bursar; closed ones accept nothing (R7.8).
 */
function planWaive(target: Target, requested: Cents | null): Waive {
  const { fine, field } = target;
  if (fine.status !== 'ACTIVE') {
    const why = {
      CLOSED: 'is CLOSED: a fully paid or waived fine accepts no further action (R7.8)',
      IN_DISPUTE: 'is IN_DISPUTE: only ACTIVE fines can be waived; restore it first (R7.5)',
      TRANSFERRED: 'is TRANSFERRED to the bursar: only ACTIVE fines can be waived',
    }[fine.status as Exclude<FineFee['status'], 'ACTIVE'>];
    throw fineRefusal('BAD_USER_INPUT', field, fine.id, `Fine ${fine.id} ${why}`);
  }
  const remaining = toCents(fine.remainingAmount);
  if (remaining < 0n) throw fineRefusal('BAD_USER_INPUT', field, fine.id, `Fine ${fine.id} is a credit (${fromCents(remaining)}): credits are owed to the patron and cannot be waived (R7.3)`);
  if (remaining === 0n) throw fineRefusal('BAD_USER_INPUT', field, fine.id, `Fine ${fine.id} has nothing left to waive`);
  const amount = requested ?? remaining;
  if (amount > remaining) {
    throw fineRefusal('BAD_USER_INPUT', 'input.amount', fine.id,
      `Fine ${fine.id} has ${fromCents(remaining)} left: at most that can be waived, not ${fromCents(amount)} (R7.4)`);
  }
  return { ...target, amount, remainingAfter: remaining - amount };
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
  await insertFineActions(tx, waives.map((w) => ({
    institutionId: operator.institutionId, fineId: w.fine.id, actionType: 'WAIVE' as const, amount: fromCents(-w.amount),
    reason: request.reason, comment: request.comment, createdBy: operator.label,
  })));
  await updateFineBalances(tx, after.map(({ fine }) => ({ id: fine.id, remainingAmount: fine.remainingAmount, status: fine.status })));
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
      ? await lockListed(ctx, tx, operator, request.target.fineIds, settings.limit)
      : await lockFiltered(ctx, tx, operator, request.target.filter, settings.limit);
    // Every fine is judged before anything is written, so one refusal leaves all of them untouched;
    // access first (as for any change of a user), then the request's content.
    targets.forEach((t) => authorize(ctx, t));
    if (!settings.reasonKnown) throw badInput('input.reason', `"${request.reason}" is not a configured waive reason`);
    const waives = targets.map((t) => planWaive(t, request.amount));
    const fines = await write(tx, operator, request, waives, settings.now);
    return { fines, waivedTotal: fromCents(sumCents(waives.map((w) => w.amount))), count: waives.length };
  });
}
