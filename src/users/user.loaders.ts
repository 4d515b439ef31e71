import type { EntityManager } from 'typeorm';
import { byIdLoader, groupedLoader } from '../common/loaders';
import { findAddressesOf, findEmailsOf, findIdentifiersOf, findPhonesOf } from './contact.repository';
import { findUsersByIds } from './user.repository';

export function createUserLoaders(db: EntityManager, institutionId: string) {
  const children = <T extends { userId: string }>(find: (db: EntityManager, institutionId: string, ids: string[]) => Promise<T[]>) =>
    groupedLoader((ids) => find(db, institutionId, ids), (row) => row.userId);
  return {
    userById: byIdLoader((ids) => findUsersByIds(db, institutionId, ids)),
    identifiersByUser: children(findIdentifiersOf),
    emailsByUser: children(findEmailsOf),
    addressesByUser: children(findAddressesOf),
    phonesByUser: children(findPhonesOf),
  };
}
