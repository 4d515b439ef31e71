import type { EntityManager } from 'typeorm';
import { createBlockLoaders } from './blocks/block.loaders';
import { createFineLoaders } from './fines/fine.loaders';
import { createHistoryLoaders } from './history/history.loaders';
import { createInstitutionLoaders } from './institutions/institution.loaders';
import { createNoteLoaders } from './notes/note.loaders';
import type { Operator } from './policy/operator';
import { ownerScope } from './policy/scope';
import { createProxyLoaders } from './proxies/proxy.loaders';
import { createRoleLoaders } from './roles/role.loaders';
import { createStatisticLoaders } from './statistics/statistic.loaders';
import { createUserLoaders } from './users/user.loaders';

/**
 * One set of DataLoaders per request, bound to the operator's institution and
 * owner scope, so batching never mixes operators and every batched statement
 * is already filtered by the policy's scope in SQL.
 */
export function createLoaders(db: EntityManager, operator: Operator) {
  const scope = ownerScope(operator);
  const on = { db, institutionId: operator.institutionId, scope };
  return {
    ...createUserLoaders(on),
    ...createRoleLoaders(on),
    ...createBlockLoaders(on),
    ...createFineLoaders(on),
    ...createNoteLoaders(db, operator.institutionId, scope),
    ...createHistoryLoaders(db, operator.institutionId, scope),
    ...createStatisticLoaders(db, operator.institutionId, scope),
    ...createProxyLoaders(db, operator.institutionId),
    ...createInstitutionLoaders(db, operator.institutionId),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
