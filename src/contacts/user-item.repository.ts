import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { User } from '../db/entities';
import type { Operator } from '../policy/operator';

/**
 * Rows that hang off one user (identifiers, emails, addresses, phones): each
 * carries its institution and user, and an external flag (R3.3).
 */
export interface UserItemRow extends ObjectLiteral {
  id: string;
  institutionId: string;
  userId: string;
  isExternal: boolean;
}

/** One item of the institution by id, or null; never an item of another institution. */
export function findUserItem<T extends UserItemRow>(db: EntityManager, entity: EntityTarget<T>, institutionId: string, id: string): Promise<T | null> {
  return db.getRepository(entity).createQueryBuilder('i')
    .where('i.institution_id = :institutionId AND i.id = :id', { institutionId, id })
    .getOne();
}

/** R1.4: a change to a user's identifiers or contact information is a change of the user (updated by / updated date). */
export async function markUserUpdated(tx: EntityManager, operator: Operator, user: User): Promise<void> {
  const [row]: { updated_at: Date }[] = await tx.query(
    `UPDATE app_user SET updated_by = $3, updated_at = now() WHERE institution_id = $1 AND id = $2 RETURNING updated_at`,
    [operator.institutionId, user.id, operator.label],
  );
  Object.assign(user, { updatedBy: operator.label, updatedAt: row.updated_at });
}
