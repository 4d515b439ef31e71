import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * One row of the institution by id, locked (FOR UPDATE) for the rest of the
 * transaction, so read-modify-write changes of the same row queue. Every
 * "lock this user / role / profile / rule / key" goes through here.
 */
export function lockRow<T extends ObjectLiteral>(tx: EntityManager, entity: EntityTarget<T>, institutionId: string, id: string): Promise<T | null> {
  return tx.getRepository(entity).createQueryBuilder('row')
    .where('row.institution_id = :institutionId AND row.id = :id', { institutionId, id })
    .setLock('pessimistic_write')
    .getOne();
}
