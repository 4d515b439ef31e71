import type { EntityManager } from 'typeorm';
import { FineFee } from '../db/entities';
import type { FineActionType, FineStatus, PaymentMethod } from '../db/entities';

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

export async function insertFineActions(tx: EntityManager, actions: NewFineAction[]): Promise<void> {
  if (actions.length === 0) return;
  await tx.query(
    `INSERT INTO fine_fee_action (institution_id, fine_id, action_type, amount, reason, payment_method, comment, created_by)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::numeric[], $5::text[], $6::text[], $7::text[], $8::text[])`,
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

/** Sets each fine's remaining amount and status (status_date moves only when the status changes). */
export async function updateFineBalances(tx: EntityManager, updates: FineBalanceUpdate[]): Promise<void> {
  if (updates.length === 0) return;
  await tx.query(
    `UPDATE fine_fee f
        SET remaining_amount = u.remaining, status = u.status,
            status_date = CASE WHEN f.status = u.status THEN f.status_date ELSE now() END
       FROM unnest($1::uuid[], $2::numeric[], $3::text[]) AS u(id, remaining, status)
      WHERE f.id = u.id`,
    [updates.map((u) => u.id), updates.map((u) => u.remainingAmount), updates.map((u) => u.status)],
  );
}

/**
 * Fines whose remaining amount differs from the sum of their actions (R7.7):
 * empty when the ledger holds. Tests and the benchmark call it after every run.
 */
export async function findLedgerMismatches(db: EntityManager, institutionId: string): Promise<{ id: string; remaining: string; ledger: string }[]> {
  return db.query(
    `SELECT f.id, f.remaining_amount::text AS remaining, coalesce(sum(a.amount), 0)::text AS ledger
       FROM fine_fee f LEFT JOIN fine_fee_action a ON a.fine_id = f.id
      WHERE f.institution_id = $1
      GROUP BY f.id
     HAVING f.remaining_amount <> coalesce(sum(a.amount), 0)`,
    [institutionId],
  );
}
