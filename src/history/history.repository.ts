import type { EntityManager } from 'typeorm';
import { HistoryEntry } from '../db/entities';
import { ownerCondition } from '../policy/scope';

/** What a history entry is about other than a user: a role profile or assignment rule (they decide who gets which powers). */
export interface ConfigurationSubject {
  type: 'ROLE_PROFILE' | 'ROLE_ASSIGNMENT_RULE';
  id: string;
}

/** One recorded change of a user (R9.1), or of a configuration subject: a field's old and new value, by whom. */
export interface HistoryChange {
  institutionId: string;
  /** The user changed; null when `subject` names what changed. */
  userId: string | null;
  subject?: ConfigurationSubject;
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
    `INSERT INTO history_entry (institution_id, user_id, field, old_value, new_value, owner_library_id, changed_by, subject_type, subject_id)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[], $8::text[], $9::uuid[])`,
    [
      changes.map((c) => c.institutionId),
      changes.map((c) => c.userId),
      changes.map((c) => c.field),
      changes.map((c) => c.oldValue),
      changes.map((c) => c.newValue),
      changes.map((c) => c.ownerLibraryId ?? null),
      changes.map((c) => c.changedBy),
      changes.map((c) => c.subject?.type ?? 'USER'),
      changes.map((c) => c.subject?.id ?? null),
    ],
  );
}

/**
 * Pages of many users' histories at once, newest first, each with one extra
 * row that tells whether a next page exists: one statement for a whole list
 * of users. Only entries whose owner the scope reaches (R5.2). Keyset on the
 * bigserial id (served by history_entry_user_idx), so deep pages cost the
 * same as the first.
 */
export function findHistoryPages(
  db: EntityManager,
  req: { institutionId: string; userIds: string[]; owners: string[] | null; first: number; beforeId: string | null },
): Promise<HistoryEntry[]> {
  return db.getRepository(HistoryEntry).createQueryBuilder('h')
    .where(`h.id IN (SELECT x.id FROM (
        SELECT e.id, row_number() OVER (PARTITION BY e.user_id ORDER BY e.id DESC) AS position
          FROM history_entry e
         WHERE e.institution_id = :institutionId AND e.user_id = ANY(:userIds::uuid[])
           AND (CAST(:beforeId AS bigint) IS NULL OR e.id < CAST(:beforeId AS bigint))
           AND ${ownerCondition('e.owner_library_id', ':owners')}) x
       WHERE x.position <= :limit)`, { ...req, limit: req.first + 1 })
    .orderBy('h.id', 'DESC')
    .getMany();
}

/** How many entries of each user the scope reaches. */
export async function countHistories(
  db: EntityManager,
  req: { institutionId: string; userIds: string[]; owners: string[] | null },
): Promise<{ userId: string; count: number }[]> {
  return db.query(
    `SELECT user_id AS "userId", count(*)::int AS count FROM history_entry
      WHERE institution_id = $1 AND user_id = ANY($2::uuid[]) AND ${ownerCondition('owner_library_id', '$3')}
      GROUP BY user_id`,
    [req.institutionId, req.userIds, req.owners],
  );
}

/** A page of the institution's configuration history (role profiles and rules), newest first, with one extra row for hasNextPage. */
export function findConfigurationHistory(db: EntityManager, institutionId: string, first: number, beforeId: string | null): Promise<HistoryEntry[]> {
  return db.getRepository(HistoryEntry).createQueryBuilder('h')
    .where(`h.institution_id = :institutionId AND h.subject_type <> 'USER'`, { institutionId })
    .andWhere('(CAST(:beforeId AS bigint) IS NULL OR h.id < CAST(:beforeId AS bigint))', { beforeId })
    .orderBy('h.id', 'DESC')
    .limit(first + 1)
    .getMany();
}

export async function countConfigurationHistory(db: EntityManager, institutionId: string): Promise<number> {
  const [row] = await db.query(`SELECT count(*)::int AS count FROM history_entry WHERE institution_id = $1 AND subject_type <> 'USER'`, [institutionId]);
  return row.count;
}
