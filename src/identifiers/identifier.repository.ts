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
