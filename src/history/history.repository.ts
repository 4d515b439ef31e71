import type { EntityManager } from 'typeorm';

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
