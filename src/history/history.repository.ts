import type { EntityManager } from 'typeorm';
import { HistoryEntry } from '../db/entities';
import { ownerCondition } from '../policy/scope';

/** One recorded change of a user (R9.1): a field's old and new value, by whom. */
export interface HistoryChange {
  institutionId: string;
  userId: string;
  field: string;
  oldValue: string | null;
  newValue: string | null;
  ownerLibraryId?: string | null;
  changedBy: string;
}

/** Appends changes in the caller's transaction, in one statement however many there are. */
export async function recordHistory(tx: EntityManager, changes: HistoryChange[]): Promise<void> {
  if (changes.length === 0) return;
  await tx.query(
    `INSERT INTO history_entry (institution_id, user_id, field, old_value, new_value, owner_library_id, changed_by)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[])`,
    [
      changes.map((c) => c.institutionId),
      changes.map((c) => c.userId),
      changes.map((c) => c.field),
      changes.map((c) => c.oldValue),
      changes.map((c) => c.newValue),
      changes.map((c) => c.ownerLibraryId ?? null),
      changes.map((c) => c.changedBy),
    ],
  );
}

/** Which of a user's entries a reader may see: its institution's, and only those whose owner the scope reaches (R5.2). */
function visibleHistory(db: EntityManager, req: { institutionId: string; userId: string; owners: string[] | null }) {
  return db.getRepository(HistoryEntry).createQueryBuilder('h')
    .where('h.institution_id = :institutionId AND h.user_id = :userId', { institutionId: req.institutionId, userId: req.userId })
    .andWhere(ownerCondition('h.owner_library_id', ':owners'), { owners: req.owners });
}

/**
 * One page of a user's history, newest first, plus one extra row that tells
 * whether a next page exists. Keyset on the bigserial id (served by
 * history_entry_user_idx), so deep pages cost the same as the first.
 */
export function findHistoryPage(
  db: EntityManager,
  req: { institutionId: string; userId: string; owners: string[] | null; first: number; beforeId: string | null },
): Promise<HistoryEntry[]> {
  const qb = visibleHistory(db, req);
  if (req.beforeId !== null) qb.andWhere('h.id < :beforeId', { beforeId: req.beforeId });
  return qb.orderBy('h.id', 'DESC').limit(req.first + 1).getMany();
}

export function countHistory(db: EntityManager, req: { institutionId: string; userId: string; owners: string[] | null }): Promise<number> {
  return visibleHistory(db, req).getCount();
}
