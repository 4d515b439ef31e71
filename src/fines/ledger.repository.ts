import type { EntityManager } from 'typeorm';
import { FineFee } from '../db/entities';
import type { FineActionType, FineStatus, PaymentMethod } from '../db/entities';
import { fromCents, toCents } from './money';

/**
 * The fine ledger (R7.7): every change of a fine is an action row, and the
 * fine's remaining amount moves in the same transaction. These statements are
 * batched, so changing 100 fines costs the same few statements as changing 1.
 */

/**
 * Locks the fines for the rest of the transaction, in id order so that two
 * transactions locking overlapping sets queue instead of deadlocking.
 * Returns only fines of the institution; the caller compares with what it asked for.
 */
export function lockFines(tx: EntityManager, institutionId: string, ids: string[]): Promise<FineFee[]> {
  return tx.getRepository(FineFee).createQueryBuilder('f')
    .where('f.institution_id = :institutionId AND f.id = ANY(:ids::uuid[])', { institutionId, ids })
    .orderBy('f.id', 'ASC')
    .setLock('pessimistic_write')
    .getMany();
}

export interface NewFineAction {
  institutionId: string;
  fineId: string;
  actionType: FineActionType;
  /** Signed effect on the balance as a decimal string: CREATE +original, WAIVE/PAY negative, DISPUTE/RESTORE 0. */
  amount: string;
  reason?: string | null;
  paymentMethod?: PaymentMethod | null;
  comment?: string | null;
  createdBy: string;
}

/** Ledger rows, each with its fine's owner and fee type (what the kept ledger totals are keyed by, migration FineAnalytics). */
export async function insertFineActions(tx: EntityManager, actions: NewFineAction[]): Promise<void> {
  if (actions.length === 0) return;
  await tx.query(
    `INSERT INTO fine_fee_action (institution_id, fine_id, action_type, amount, reason, payment_method, comment, created_by, owner_library_id, fine_type)
     SELECT a.*, f.owner_library_id, f.fine_type
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::numeric[], $5::text[], $6::text[], $7::text[], $8::text[])
            AS a(institution_id, fine_id, action_type, amount, reason, payment_method, comment, created_by)
       JOIN fine_fee f ON f.id = a.fine_id`,
    [
      actions.map((a) => a.institutionId),
      actions.map((a) => a.fineId),
      actions.map((a) => a.actionType),
      actions.map((a) => a.amount),
      actions.map((a) => a.reason ?? null),
      actions.map((a) => a.paymentMethod ?? null),
      actions.map((a) => a.comment ?? null),
      actions.map((a) => a.createdBy),
    ],
  );
}

export interface FineBalanceUpdate {
  id: string;
  remainingAmount: string;
  status: FineStatus;
}

/**
 * Records one action on each of some fines and their new balances (R7.7): the ledger rows, then each fine's remaining
 * amount and status, with the sums of its ledger the analysts' totals read (paid and waived, as positive amounts, and
 * whether it was ever disputed), in two statements however many fines. `balances` names the same fines as `actions`.
 * The status date moves only when the status changes.
 */
export async function applyFineActions(tx: EntityManager, actions: NewFineAction[], balances: FineBalanceUpdate[]): Promise<void> {
  if (actions.length === 0) return;
  await insertFineActions(tx, actions);
  const byFine = new Map(actions.map((a) => [a.fineId, a]));
  const sums = balances.map((b) => {
    const action = byFine.get(b.id)!;
    const taken = fromCents(-toCents(action.amount));
    return { paid: action.actionType === 'PAY' ? taken : '0', waived: action.actionType === 'WAIVE' ? taken : '0', disputed: action.actionType === 'DISPUTE' };
  });
  await tx.query(
    `UPDATE fine_fee f
        SET remaining_amount = u.remaining, status = u.status,
            status_date = CASE WHEN f.status = u.status THEN f.status_date ELSE now() END,
            paid_amount = f.paid_amount + u.paid, waived_amount = f.waived_amount + u.waived, disputed = f.disputed OR u.disputed
       FROM unnest($1::uuid[], $2::numeric[], $3::text[], $4::numeric[], $5::numeric[], $6::boolean[]) AS u(id, remaining, status, paid, waived, disputed)
      WHERE f.id = u.id`,
    [balances.map((b) => b.id), balances.map((b) => b.remainingAmount), balances.map((b) => b.status),
      sums.map((x) => x.paid), sums.map((x) => x.waived), sums.map((x) => x.disputed)],
  );
}

/**
 * Fines whose remaining amount differs from the sum of their actions (R7.7), or whose paid, waived and disputed sums
 * differ from their PAY, WAIVE and DISPUTE actions: empty when the ledger holds. Tests and the benchmark call it after
 * every run.
 */
export async function findLedgerMismatches(db: EntityManager, institutionId: string): Promise<{ id: string; remaining: string; ledger: string }[]> {
  return db.query(
    `SELECT f.id, f.remaining_amount::text AS remaining, coalesce(sum(a.amount), 0)::text AS ledger
       FROM fine_fee f LEFT JOIN fine_fee_action a ON a.fine_id = f.id
      WHERE f.institution_id = $1
      GROUP BY f.id
     HAVING f.remaining_amount <> coalesce(sum(a.amount), 0)
         OR f.paid_amount <> -coalesce(sum(a.amount) FILTER (WHERE a.action_type = 'PAY'), 0)
         OR f.waived_amount <> -coalesce(sum(a.amount) FILTER (WHERE a.action_type = 'WAIVE'), 0)
         OR f.disputed <> coalesce(bool_or(a.action_type = 'DISPUTE'), false)`,
    [institutionId],
  );
}
