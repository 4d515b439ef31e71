import type { EntityManager } from 'typeorm';
import { ChildSet, institutionParam } from '../db/child-rows';
import { Loan } from '../db/entities';
import type { LoanStatusFilter } from '../generated/graphql';
import { ownerCondition, ownerParam, OwnerScope } from '../policy/scope';

/**
 * Loans (issue 13 item 2). A loan's owner is its lending library: with library
 * independence, reads keep only loans the owner scope covers (R5.2), in the
 * statement itself. Whether a user may be removed counts every open loan
 * (lifecycle/removal.repository.ts), not these.
 */

/** How many open loans of a user the owner scope lets the operator see, as one value per user (src/db/child-rows.ts). */
export const openLoanCountOfUser: ChildSet<number> = {
  json: (parent, p, on) => `(SELECT count(*)::int FROM loan l
      WHERE l.institution_id = ${institutionParam(p, on)} AND l.user_id = ${parent} AND l.returned_at IS NULL
        AND ${ownerCondition('l.library_id', p.once('owners', ownerParam(on.scope)))})`,
  read: (value) => Number(value),
};

const STATUS_CONDITION: Record<LoanStatusFilter, string> = {
  OPEN: 'l.returned_at IS NULL',
  RETURNED: 'l.returned_at IS NOT NULL',
  ALL: 'true',
};

/** Loans of many users in one statement, newest loan first, those the owner scope covers (R5.2). */
export function findLoansOf(db: EntityManager, institutionId: string, scope: OwnerScope, status: LoanStatusFilter, userIds: string[]): Promise<Loan[]> {
  return db.getRepository(Loan).createQueryBuilder('l')
    .where('l.institution_id = :institutionId AND l.user_id = ANY(:userIds::uuid[])', { institutionId, userIds })
    .andWhere(STATUS_CONDITION[status])
    .andWhere(ownerCondition('l.library_id', ':owners'), { owners: ownerParam(scope) })
    .orderBy('l.loan_date', 'DESC')
    .addOrderBy('l.id', 'ASC')
    .getMany();
}

/**
 * The loan if it is of the institution and the owner scope covers it, locked for the rest of the transaction (a
 * return and another return of the same loan queue); null otherwise, so a hidden loan is indistinguishable from a
 * missing one.
 */
export function lockLoanInScope(tx: EntityManager, institutionId: string, scope: OwnerScope, id: string): Promise<Loan | null> {
  return tx.getRepository(Loan).createQueryBuilder('l')
    .where('l.institution_id = :institutionId AND l.id = :id', { institutionId, id })
    .andWhere(ownerCondition('l.library_id', ':owners'), { owners: ownerParam(scope) })
    .setLock('pessimistic_write')
    .getOne();
}

export interface NewLoan {
  institutionId: string;
  userId: string;
  libraryId: string;
  itemBarcode: string;
  loanDate: Date | null;
  dueDate: Date;
}

/**
 * Inserts an open loan unless the item is already on one in the institution (the partial unique index
 * loan_open_item_idx): then null. A concurrent insert of the same barcode waits for the other transaction and
 * inserts nothing if it committed, so of two desks lending one item at once exactly one succeeds.
 */
export async function insertOpenLoan(tx: EntityManager, loan: NewLoan): Promise<Loan | null> {
  const rows: { id: string }[] = await tx.query(
    `INSERT INTO loan (institution_id, user_id, library_id, item_barcode, loan_date, due_date)
     VALUES ($1, $2, $3, $4, coalesce($5::timestamptz, now()), $6)
     ON CONFLICT (institution_id, item_barcode) WHERE returned_at IS NULL DO NOTHING
     RETURNING id`,
    [loan.institutionId, loan.userId, loan.libraryId, loan.itemBarcode, loan.loanDate, loan.dueDate],
  );
  if (rows.length === 0) return null;
  return tx.getRepository(Loan).findOneByOrFail({ id: rows[0].id });
}

/** Closes a loan at `returnedAt` (null: the transaction's time) and returns it as stored. */
export async function closeLoan(tx: EntityManager, id: string, returnedAt: Date | null): Promise<Loan> {
  await tx.query(`UPDATE loan SET returned_at = coalesce($2::timestamptz, now()) WHERE id = $1`, [id, returnedAt]);
  return tx.getRepository(Loan).findOneByOrFail({ id });
}

/** The transaction's time, which `now()` writes: what dates given by the client are compared with. */
export async function transactionTime(tx: EntityManager): Promise<Date> {
  const [row] = await tx.query(`SELECT now() AS now`);
  return row.now;
}
