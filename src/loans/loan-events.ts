import type { EntityManager } from 'typeorm';
import type { Loan } from '../db/entities';
import { appendEvents } from '../events/outbox.repository';
import type { Operator } from '../policy/operator';

/** The field a loan's change names in its event. */
export const LOAN_FIELD = 'loans';

/** A loan as one line of an event's changes: "39001234 due 2026-12-15T00:00:00.000Z", "… returned …". */
export function describeLoan(loan: Pick<Loan, 'itemBarcode' | 'dueDate' | 'returnedAt'>): string {
  return loan.returnedAt ? `${loan.itemBarcode} returned ${loan.returnedAt.toISOString()}` : `${loan.itemBarcode} due ${loan.dueDate.toISOString()}`;
}

/**
 * One LOAN_RECORDED or LOAN_RETURNED event on the user, in the caller's transaction. It is stamped with the
 * lending library as its owner, so subscribers and the `events` query under library independence receive only
 * loans of libraries their scopes cover (R5.2), as reads of loans do. Loans are not in R9.1's list, so no history
 * entry is written; the event still says what changed, for partners that follow loans.
 */
export async function recordLoanEvent(tx: EntityManager, operator: Operator, eventType: 'LOAN_RECORDED' | 'LOAN_RETURNED', before: Loan | null, after: Loan): Promise<void> {
  await appendEvents(tx, [{
    institutionId: operator.institutionId, eventType, aggregateType: 'USER', aggregateId: after.userId,
    ownerLibraryId: after.libraryId, actor: operator.label,
    payload: {
      loanId: after.id, itemBarcode: after.itemBarcode, libraryId: after.libraryId,
      loanDate: after.loanDate, dueDate: after.dueDate, returnedAt: after.returnedAt,
      changes: [{ field: LOAN_FIELD, oldValue: before ? describeLoan(before) : null, newValue: describeLoan(after) }],
    },
  }]);
}
