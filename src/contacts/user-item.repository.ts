import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

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
