import type { EntityManager } from 'typeorm';
import { ownerCondition, ownerParam, OwnerScope } from '../policy/scope';
import type { BursarBatch, BursarLine } from './bursar-batch';
import type { ExportFilter } from './bursar-export.input';

/**
 * The statements of a bursar export (issue 13 item 3). Each costs one
 * statement whatever the number of fines, so a batch of 10,000 fines is the
 * same dozen statements as a batch of one.
 */

/** Either the new batch's seq (the id was free) or the stored batch that already has the id, and whether its filter is this one. */
export type Claim = { claimed: true; seq: string } | { claimed: false; seq: string; sameFilter: boolean };

/**
 * Takes the batch id for this export. A concurrent export with the same id
 * waits here for the other transaction: if it commits, this one finds its
 * batch; if it rolls back, this one takes the id.
 */
export async function claimBatch(tx: EntityManager, institutionId: string, batchId: string, filter: ExportFilter, createdBy: string): Promise<Claim> {
  const inserted: { seq: string }[] = await tx.query(
    `INSERT INTO bursar_export_batch (institution_id, batch_id, filter, currency, created_by)
     SELECT i.id, $2, $3::jsonb, i.currency, $4 FROM institution i WHERE i.id = $1
     ON CONFLICT (institution_id, batch_id) DO NOTHING
     RETURNING seq::text AS seq`,
    [institutionId, batchId, JSON.stringify(filter), createdBy],
  );
  if (inserted.length > 0) return { claimed: true, seq: inserted[0].seq };
  const [stored] = await tx.query(
    `SELECT seq::text AS seq, filter = $3::jsonb AS "sameFilter" FROM bursar_export_batch WHERE institution_id = $1 AND batch_id = $2`,
    [institutionId, batchId, JSON.stringify(filter)],
  );
  return { claimed: false, seq: stored.seq, sameFilter: stored.sameFilter };
}

/**
 * The ids of the fines an export takes, in id order, not locked: ACTIVE with
 * something left to pay (R7.9; credits, disputed, closed and transferred fines
 * never), matching the filter, and within `reach`: the policy's condition on
 * `f` and `u` for the owners and users the operator may change, its
 * parameters numbered from $9. At most `max`, so a filter matching far
 * more than the cap is refused after reading one more than it.
 */
export async function findExportableFineIds(
  tx: EntityManager, institutionId: string, reach: { sql: string; params: unknown[] }, filter: ExportFilter, max: number,
): Promise<string[]> {
  const rows: { id: string }[] = await tx.query(
    `SELECT f.id FROM fine_fee f JOIN app_user u ON u.id = f.user_id
      WHERE f.institution_id = $1 AND f.status = 'ACTIVE' AND f.remaining_amount > 0 AND u.purged_at IS NULL
        AND ($2::uuid IS NULL OR f.owner_library_id = $2::uuid)
        AND ($3::text[] IS NULL OR f.fine_type = ANY($3::text[]))
        AND ($4::timestamptz IS NULL OR f.created_at < $4::timestamptz)
        AND ($5::timestamptz IS NULL OR f.created_at >= $5::timestamptz)
        AND ($6::text IS NULL OR u.user_group = $6::text)
        AND ($7::numeric IS NULL OR f.remaining_amount >= $7::numeric)
        AND ${reach.sql}
      ORDER BY f.id
      LIMIT $8`,
    [institutionId, filter.ownerLibraryId, filter.feeTypes, filter.createdBefore, filter.createdAfter, filter.userGroup, filter.minAmount, max,
      ...reach.params],
  );
  return rows.map((r) => r.id);
}

export interface NewLine {
  fineId: string;
  userId: string;
  feeType: string;
  ownerLibraryId: string | null;
  amount: string;
  fineCreatedAt: Date;
}

/** The batch's lines, numbered in the order given. */
export async function insertLines(tx: EntityManager, institutionId: string, seq: string, lines: NewLine[]): Promise<void> {
  if (lines.length === 0) return;
  await tx.query(
    `INSERT INTO bursar_export_line (batch_seq, line_no, institution_id, fine_id, user_id, fee_type, owner_library_id, amount, fine_created_at)
     SELECT $1::bigint, n, $2::uuid, l.fine_id, l.user_id, l.fee_type, l.owner_library_id, l.amount, l.created_at
       FROM unnest($3::uuid[], $4::uuid[], $5::text[], $6::uuid[], $7::numeric[], $8::timestamptz[])
            WITH ORDINALITY AS l(fine_id, user_id, fee_type, owner_library_id, amount, created_at, n)`,
    [seq, institutionId, lines.map((l) => l.fineId), lines.map((l) => l.userId), lines.map((l) => l.feeType),
      lines.map((l) => l.ownerLibraryId), lines.map((l) => l.amount), lines.map((l) => l.fineCreatedAt)],
  );
}

/** The batch columns and the count and total of the lines the owner scope lets the reader see (R5.2); `$2` is the scope. */
const BATCH_SELECT = `SELECT b.seq::text AS seq, b.batch_id AS id, b.created_at AS "createdAt", b.created_by AS "createdBy", b.currency,
       s.count AS "fineCount", s.total::text AS total
  FROM bursar_export_batch b
  CROSS JOIN LATERAL (SELECT count(*)::int AS count, coalesce(sum(l.amount), 0)::numeric(14,2) AS total FROM bursar_export_line l
                       WHERE l.batch_seq = b.seq AND ${ownerCondition('l.owner_library_id', '$2')}) s`;

export async function findBatch(db: EntityManager, institutionId: string, scope: OwnerScope, where: { batchId: string } | { seq: string }): Promise<BursarBatch | null> {
  const [row] = 'seq' in where
    ? await db.query(`${BATCH_SELECT} WHERE b.institution_id = $1 AND b.seq = $3::bigint`, [institutionId, ownerParam(scope), where.seq])
    : await db.query(`${BATCH_SELECT} WHERE b.institution_id = $1 AND b.batch_id = $3`, [institutionId, ownerParam(scope), where.batchId]);
  return row ?? null;
}

/** The institution's batches, newest first, after the batch `before` (a seq) when given: `limit` of them. */
export function findBatches(db: EntityManager, institutionId: string, scope: OwnerScope, before: string | null, limit: number): Promise<BursarBatch[]> {
  return db.query(
    `${BATCH_SELECT} WHERE b.institution_id = $1 AND ($3::bigint IS NULL OR b.seq < $3::bigint) ORDER BY b.seq DESC LIMIT $4`,
    [institutionId, ownerParam(scope), before, limit],
  );
}

/**
 * The lines of many batches in one statement, in line order, those the owner scope lets the reader see (R5.2). The
 * user's primary identifier is read from the user as it is now (a purged or deleted user has none).
 */
export function findLines(db: EntityManager, institutionId: string, scope: OwnerScope, seqs: readonly string[]): Promise<BursarLine[]> {
  return db.query(
    `SELECT l.batch_seq::text AS "batchSeq", l.fine_id AS "fineId", u.primary_identifier AS "userPrimaryIdentifier", l.fee_type AS "feeType",
            l.owner_library_id AS "ownerLibraryId", coalesce(lib.code, 'INSTITUTION') AS "ownerCode", l.amount::text AS amount,
            b.currency, l.fine_created_at AS "fineCreatedAt"
       FROM bursar_export_line l
       JOIN bursar_export_batch b ON b.seq = l.batch_seq
       LEFT JOIN app_user u ON u.id = l.user_id AND u.institution_id = l.institution_id
       LEFT JOIN library lib ON lib.id = l.owner_library_id
      WHERE l.institution_id = $1 AND l.batch_seq = ANY($3::bigint[]) AND ${ownerCondition('l.owner_library_id', '$2')}
      ORDER BY l.batch_seq, l.line_no`,
    [institutionId, ownerParam(scope), seqs],
  );
}
