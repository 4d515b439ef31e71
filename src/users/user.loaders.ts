import { byIdLoader } from '../common/loaders';
import { ChildScope, childLoader } from '../db/child-rows';
import { addressesOfUser, emailsOfUser, identifiersOfUser, phonesOfUser } from './contact.repository';
import { findUsersByIds } from './user.repository';

export function createUserLoaders(on: ChildScope) {
  return {
    userById: byIdLoader((ids) => findUsersByIds(on.db, on.institutionId, ids)),
    identifiersByUser: childLoader(identifiersOfUser, on),
    emailsByUser: childLoader(emailsOfUser, on),
    addressesByUser: childLoader(addressesOfUser, on),
    phonesByUser: childLoader(phonesOfUser, on),
  };
}
