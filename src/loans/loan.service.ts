import { GraphQLError } from 'graphql';
import type { EntityManager } from 'typeorm';
import { blocksOfUser, isBlockActive } from '../blocks/block.repository';
import { badInput, conflict, notFound } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { RequestContext } from '../context';
import { readChildren } from '../db/child-rows';
import type { Loan, User } from '../db/entities';
import { inTransaction } from '../db/transaction';
import { fineSummaryOfUser } from '../fines/fine.repository';
import type { RecordLoanInput } from '../generated/graphql';
import { findLibraries } from '../institutions/institution.repository';
import { requiredText } from '../owned-items/owned-item-input';
import type { Operator } from '../policy/operator';
import type { OwnerScope } from '../policy/scope';
import { isActiveNotExpired } from '../users/user-fields';
import { lockUserForChange } from '../users/user-target';
import { recordLoanEvent } from './loan-events';
import { closeLoan, insertOpenLoan, lockLoanInScope, transactionTime } from './loan.repository';

/**
 * Loans from circulation (issue 13 item 2): a partner's circulation desk
 * records a loan and its return. Each is one transaction with one event; the
 * borrower's row is locked first, so a loan and a deletion of the same user
 * queue, and R10.2's count of open loans is exact when a deletion decides.
 */

const ACTION = 'loan.manage';
/** Dates a desk sends may run ahead of the server's clock by this much. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** One reason the user may not borrow now. */
interface BorrowingRefusal {
  code: 'INACTIVE' | 'EXPIRED' | 'ACTIVE_BLOCK' | 'DEBT_LIMIT';
  message: string;
}

/**
 * Why the user may not borrow from `libraryId`, every reason: not active or
 * expired (R1.5: INACTIVE is equivalent to a block), an active block (R6.2)
 * of the institution or of the lending library (with library independence a
 * library's blocks govern its own circulation, and another library's block is
 * one the desk may not even see), or a whole active balance at the debt limit
 * (R7.5, a fact about the patron whoever owns the fines).
 */
async function borrowingRefusals(tx: EntityManager, operator: Operator, user: User, libraryId: string): Promise<BorrowingRefusal[]> {
  const refusals: BorrowingRefusal[] = [];
  if (!isActiveNotExpired(user)) {
    refusals.push(user.status !== 'ACTIVE'
      ? { code: 'INACTIVE', message: 'The user is INACTIVE (R1.5)' }
      : { code: 'EXPIRED', message: `The user's account expired on ${user.expiryDate} (R1.5)` });
  }
  const blockScope: OwnerScope = operator.libraryIndependence ? { all: false, libraryIds: [libraryId] } : { all: true };
  const [blocks] = await readChildren(blocksOfUser, { db: tx, institutionId: operator.institutionId, scope: blockScope }, [user.id]);
  const active = blocks.filter((b) => isBlockActive(b));
  if (active.length > 0) {
    refusals.push({ code: 'ACTIVE_BLOCK', message: `The user has an active block (${[...new Set(active.map((b) => b.blockType))].join(', ')}, R6.2)` });
  }
  const [summary] = await readChildren(fineSummaryOfUser, { db: tx, institutionId: operator.institutionId, scope: { all: true } }, [user.id]);
  if (summary.exceedsDebtLimit) refusals.push({ code: 'DEBT_LIMIT', message: 'The user owes the debt limit or more (R7.5)' });
  return refusals;
}

/** A date the client gave, refused when it lies in the future beyond the clock difference allowed. */
function notInFuture(field: string, value: Date, now: Date): Date {
  if (value.getTime() > now.getTime() + CLOCK_SKEW_MS) throw badInput(field, `${value.toISOString()} is in the future`);
  return value;
}

/** Records a loan made at a desk: the library within the operator's scopes (R5.3), a borrower who may borrow, an item on no other open loan. */
export function recordLoan(ctx: RequestContext, input: RecordLoanInput): Promise<Loan> {
  return inTransaction(ctx.db, async (tx) => {
    ctx.policy.assert(ACTION);
    const itemBarcode = requiredText('input.itemBarcode', input.itemBarcode, 200);
    const { operator, user } = await lockUserForChange(ctx, tx, ACTION, input.userId, 'input.userId');
    // R1.1: contacts have no circulation record at all.
    if (user.recordType === 'CONTACT') throw badInput('input.userId', 'A CONTACT is not a borrower (R1.1)');
    if (!isUuid(input.libraryId) || (await findLibraries(tx, operator.institutionId, [input.libraryId])).length === 0) {
      throw badInput('input.libraryId', 'Not a library of your institution');
    }
    const libraryId = input.libraryId.toLowerCase();
    ctx.policy.assertOwner(ACTION, libraryId, user);
    const now = await transactionTime(tx);
    const loanDate = input.loanDate ? notInFuture('input.loanDate', input.loanDate, now) : null;
    if (input.dueDate.getTime() <= (loanDate ?? now).getTime()) {
      throw badInput('input.dueDate', `The due date must be after the loan date (${(loanDate ?? now).toISOString()})`);
    }
    const refusals = await borrowingRefusals(tx, operator, user, libraryId);
    if (refusals.length > 0) {
      const base = conflict(`The user may not borrow now: ${refusals.map((r) => r.message).join('; ')}`, { field: 'input.userId', value: user.id });
      throw new GraphQLError(base.message, { extensions: { ...base.extensions, reasons: refusals } });
    }
    const loan = await insertOpenLoan(tx, { institutionId: operator.institutionId, userId: user.id, libraryId, itemBarcode, loanDate, dueDate: input.dueDate });
    if (!loan) throw conflict(`Item ${itemBarcode} is already on an open loan: return it first`, { field: 'input.itemBarcode', value: itemBarcode });
    await recordLoanEvent(tx, operator, 'LOAN_RECORDED', null, loan);
    return loan;
  });
}

/**
 * Records a return. Any operator who may manage loans of the lending library
 * takes an item back, whatever the borrower's state now (an inactive or
 * blocked patron still returns items).
 */
export function returnLoan(ctx: RequestContext, id: string, returnedAt: Date | null | undefined): Promise<Loan> {
  return inTransaction(ctx.db, async (tx) => {
    const operator = ctx.policy.assert(ACTION);
    if (!isUuid(id)) throw badInput('id', `"${id}" is not a loan id`);
    const loan = await lockLoanInScope(tx, operator.institutionId, ctx.policy.ownerScope(), id.toLowerCase());
    if (!loan) throw notFound(`No loan ${id} in your institution and scope`, { field: 'id' });
    ctx.policy.assertOwner(ACTION, loan.libraryId);
    if (loan.returnedAt) throw conflict(`The loan of ${loan.itemBarcode} was already returned at ${loan.returnedAt.toISOString()}`, { field: 'id', value: loan.id });
    const now = await transactionTime(tx);
    const at = returnedAt ? notInFuture('returnedAt', returnedAt, now) : null;
    if ((at ?? now).getTime() < loan.loanDate.getTime()) {
      throw badInput('returnedAt', `The return cannot be before the loan date (${loan.loanDate.toISOString()})`);
    }
    const returned = await closeLoan(tx, loan.id, at);
    await recordLoanEvent(tx, operator, 'LOAN_RETURNED', loan, returned);
    return returned;
  });
}
