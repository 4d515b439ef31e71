import { byIdLoader, groupedLoader } from '../common/loaders';
import { ChildScope, childLoader } from '../db/child-rows';
import { findProfileEntries, findRoleProfiles, findRolesOfApiKeys, findRolesOfWebhooks, rolesOfUser } from './role.repository';

export function createRoleLoaders(on: ChildScope) {
  const { db, institutionId } = on;
  return {
    rolesByUser: childLoader(rolesOfUser, on),
    rolesByApiKey: groupedLoader((ids) => findRolesOfApiKeys(db, institutionId, ids), (r) => r.apiKeyId!),
    rolesByWebhook: groupedLoader((ids) => findRolesOfWebhooks(db, institutionId, ids), (r) => r.webhookId!),
    profileById: byIdLoader((ids) => findRoleProfiles(db, institutionId, ids)),
    entriesByProfile: groupedLoader((ids) => findProfileEntries(db, institutionId, ids), (e) => e.profileId),
  };
}
