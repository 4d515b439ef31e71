import type { EntityManager } from 'typeorm';
import { FineFee } from '../db/entities';
import { ownerCondition, ownerParam, OwnerScope } from '../policy/scope';

/** What a waive needs from the institution, read in one statement at the start of its transaction. */
export interface WaiveSettings {
  /** `waiving_fines_fees_limit` (R7.4). */
  limit: number;
  reasonKnown: boolean;
  /** The transaction's timestamp: what `now()` writes into status_date, so the payload shows the stored value. */
  now: Date;
}

export async function findWaiveSettings(tx: EntityManager, institutionId: string, reason: string): Promise<WaiveSettings> {
  const [row] = await tx.query(
    `SELECT i.waiving_fines_fees_limit AS "limit",
            EXISTS (SELECT 1 FROM code_value c WHERE c.institution_id = i.id AND c.kind = 'WAIVE_REASON' AND c.code = $2) AS "reasonKnown",
            now() AS now
       FROM institution i WHERE i.id = $1`,
    [institutionId, reason],
  );
  return row;
}

export interface WaiveFilter {
  userId: string;
  types: string[] | null;
  ownerLibraryId: string | null;
}

/**
 * The ids of the fines a filter selects: the user's ACTIVE fines with
 * something left to pay (credits never match), that the owner scope lets the
 * operator see (R5.2), in id order. Nothing is locked here: the caller locks
 * them through lockFinesForChange, like any listed fines, and re-checks their
 * status once locked. At most `max` ids, so a filter matching thousands is
 * refused over the cap after reading only one more than it.
 */
export async function findFilteredFineIds(tx: EntityManager, institutionId: string, scope: OwnerScope, filter: WaiveFilter, max: number): Promise<string[]> {
  const qb = tx.getRepository(FineFee).createQueryBuilder('f')
    .select('f.id', 'id')
    .where('f.institution_id = :institutionId AND f.user_id = :userId', { institutionId, userId: filter.userId })
    .andWhere(`f.status = 'ACTIVE' AND f.remaining_amount > 0`)
    .andWhere(ownerCondition('f.owner_library_id', ':owners'), { owners: ownerParam(scope) });
  if (filter.types) qb.andWhere('f.fine_type = ANY(:types::text[])', { types: filter.types });
  if (filter.ownerLibraryId) qb.andWhere('f.owner_library_id = :ownerLibraryId', { ownerLibraryId: filter.ownerLibraryId });
  const rows: { id: string }[] = await qb.orderBy('f.id', 'ASC').limit(max).getRawMany();
  return rows.map((r) => r.id);
}
