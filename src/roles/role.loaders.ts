import type { EntityManager } from 'typeorm';
import { groupedLoader } from '../common/loaders';
import { findRolesOf } from './role.repository';

export function createRoleLoaders(db: EntityManager, institutionId: string) {
  return {
    rolesByUser: groupedLoader((ids) => findRolesOf(db, institutionId, ids), (r) => r.userId!),
  };
}
