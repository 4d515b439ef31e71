import type { EntityManager } from 'typeorm';
import { User, UserIdentifier } from '../db/entities';
import type { Operator } from '../policy/operator';
import { returningRows } from '../db/returning';

export function insertIdentifier(tx: EntityManager, values: Pick<UserIdentifier, 'institutionId' | 'userId' | 'idType' | 'value' | 'note'>): Promise<UserIdentifier> {
  const repository = tx.getRepository(UserIdentifier);
  return repository.save(repository.create({ ...values, isExternal: false }));
}

export function saveIdentifier(tx: EntityManager, identifier: UserIdentifier): Promise<UserIdentifier> {
  return tx.getRepository(UserIdentifier).save(identifier);
}

export async function deleteIdentifier(tx: EntityManager, identifier: UserIdentifier): Promise<void> {
  await tx.getRepository(UserIdentifier).createQueryBuilder()
    .delete()
    .where('id = :id AND institution_id = :institutionId', { id: identifier.id, institutionId: identifier.institutionId })
    .execute();
}

/**
 * Renames a user. Only this statement names primary_identifier, so the
 * identifier-clash trigger runs for renames and not for every other change.
 */
export async function updatePrimaryIdentifier(tx: EntityManager, operator: Operator, user: User, primaryIdentifier: string): Promise<void> {
  const [row] = await returningRows<{ updated_at: Date }>(tx,
    `UPDATE app_user SET primary_identifier = $3, updated_by = $4, updated_at = now() WHERE institution_id = $1 AND id = $2 RETURNING updated_at`,
    [operator.institutionId, user.id, primaryIdentifier, operator.label],
  );
  Object.assign(user, { primaryIdentifier, updatedBy: operator.label, updatedAt: row.updated_at });
}

/** Who holds an identifier value already: the user, and the additional identifier's type (null for a primary identifier). */
export interface TakenIdentifier {
  value: string;
  userId: string;
  heldAs: string | null;
}

/**
 * Which of the given identifier values are already taken in the institution
 * (R2.2, R2.4), and by whom: a primary identifier clashes with any identifier
 * equal to it case-insensitively; an additional one clashes with an equal
 * additional value or a primary identifier equal case-insensitively. One row
 * per taken value, in no particular order.
 */
export async function findTakenIdentifiers(
  db: EntityManager,
  institutionId: string,
  wanted: { primary: string | null; additional: string[] },
): Promise<TakenIdentifier[]> {
  const rows: { value: string; user_id: string; held_as: string | null }[] = await db.query(
    `SELECT v AS value, t.user_id, t.held_as FROM unnest($2::text[]) AS v
       CROSS JOIN LATERAL (
         SELECT u.id AS user_id, NULL::text AS held_as FROM app_user u WHERE u.institution_id = $1 AND lower(u.primary_identifier) = lower(v)
         UNION ALL
         SELECT i.user_id, i.id_type FROM user_identifier i WHERE i.institution_id = $1 AND i.value = v
         LIMIT 1) t
     UNION ALL
     SELECT $3, t.user_id, t.held_as FROM (
         SELECT u.id AS user_id, NULL::text AS held_as FROM app_user u WHERE u.institution_id = $1 AND lower(u.primary_identifier) = lower($3)
         UNION ALL
         SELECT i.user_id, i.id_type FROM user_identifier i WHERE i.institution_id = $1 AND lower(i.value) = lower($3)
         LIMIT 1) t
      WHERE $3::text IS NOT NULL`,
    [institutionId, wanted.additional, wanted.primary],
  );
  return rows.map((r) => ({ value: r.value, userId: r.user_id, heldAs: r.held_as }));
}

/**
 * Takes, until commit, the lock the identifier-clash trigger takes on each
 * value (R2.2), in one order so two callers cannot deadlock on them. A
 * writer that reads who holds some values and then writes them takes this
 * first: a concurrent writer of the same values then either committed
 * before every read (which sees it) or waits for this transaction, so the
 * reads agree with each other and with the write.
 */
export async function lockIdentifierValues(tx: EntityManager, institutionId: string, values: string[]): Promise<void> {
  if (values.length === 0) return;
  await tx.query(
    `SELECT pg_advisory_xact_lock(k.key)
       FROM (SELECT DISTINCT hashtextextended($1::text || ':' || lower(v), 0) AS key FROM unnest($2::text[]) AS v ORDER BY 1) k`,
    [institutionId, values],
  );
}
