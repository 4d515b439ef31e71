import type { EntityManager, EntityTarget } from 'typeorm';
import type { ContactRow } from './contact-kinds';

/** A user's items of one kind in the order the API lists them: the preferred one first, then by id. */
export function findContactsOfUser<T extends ContactRow>(tx: EntityManager, entity: EntityTarget<T>, institutionId: string, userId: string): Promise<T[]> {
  return tx.getRepository(entity).createQueryBuilder('c')
    .where('c.institution_id = :institutionId AND c.user_id = :userId', { institutionId, userId })
    .orderBy('c.is_preferred', 'DESC')
    .addOrderBy('c.id', 'ASC')
    .getMany();
}

export async function insertContact<T extends ContactRow>(tx: EntityManager, entity: EntityTarget<T>, values: Partial<T>): Promise<T> {
  const repository = tx.getRepository(entity);
  return repository.save(repository.create(values as T));
}

export function saveContact<T extends ContactRow>(tx: EntityManager, entity: EntityTarget<T>, row: T): Promise<T> {
  return tx.getRepository(entity).save(row);
}

export async function deleteContact<T extends ContactRow>(tx: EntityManager, entity: EntityTarget<T>, row: T): Promise<void> {
  await tx.getRepository(entity).createQueryBuilder().delete().where('id = :id AND institution_id = :institutionId', { id: row.id, institutionId: row.institutionId }).execute();
}
