import type { DeepPartial, EntityManager, EntityTarget, QueryDeepPartialEntity } from 'typeorm';
import { ownerCondition, ownerParam, OwnerScope } from '../policy/scope';
import type { OwnedItemRow } from './owned-item-kind';

/**
 * One owned item of the institution, only when the owner scope lets the
 * operator see it (R5.2): an item outside the scope is not retrieved at all,
 * so changing it is indistinguishable from changing a missing one.
 */
export function findOwnedItem<Row extends OwnedItemRow>(
  tx: EntityManager,
  entity: EntityTarget<Row>,
  institutionId: string,
  scope: OwnerScope,
  id: string,
  opts: { lock?: boolean } = {},
): Promise<Row | null> {
  const qb = tx.getRepository(entity).createQueryBuilder('i')
    .where('i.institution_id = :institutionId AND i.id = :id', { institutionId, id })
    .andWhere(ownerCondition('i.owner_library_id', ':owners'), { owners: ownerParam(scope) });
  if (opts.lock) qb.setLock('pessimistic_write');
  return qb.getOne();
}

export function insertOwnedItemRow<Row extends OwnedItemRow>(tx: EntityManager, entity: EntityTarget<Row>, values: Partial<Row>): Promise<Row> {
  const repo = tx.getRepository(entity);
  return repo.save(repo.create(values as DeepPartial<Row>));
}

export async function updateOwnedItemRow<Row extends OwnedItemRow>(tx: EntityManager, entity: EntityTarget<Row>, id: string, values: Partial<Row>): Promise<void> {
  await tx.getRepository(entity).createQueryBuilder().update().set(values as QueryDeepPartialEntity<Row>).where('id = :id', { id }).execute();
}

export async function deleteOwnedItemRow<Row extends OwnedItemRow>(tx: EntityManager, entity: EntityTarget<Row>, id: string): Promise<void> {
  await tx.getRepository(entity).createQueryBuilder().delete().where('id = :id', { id }).execute();
}

