import type { EntityManager } from 'typeorm';
import { byIdLoader, groupedLoader } from '../common/loaders';
import { findProfileEntries, findRoleProfiles, findRolesOf, findRolesOfApiKeys } from './role.repository';

export function createRoleLoaders(db: EntityManager, institutionId: string) {
  return {
    rolesByUser: groupedLoader((ids) => findRolesOf(db, institutionId, ids), (r) => r.userId!),
    rolesByApiKey: groupedLoader((ids) => findRolesOfApiKeys(db, institutionId, ids), (r) => r.apiKeyId!),
    profileById: byIdLoader((ids) => findRoleProfiles(db, institutionId, ids)),
    entriesByProfile: groupedLoader((ids) => findProfileEntries(db, institutionId, ids), (e) => e.profileId),
  };
}
