import type { EntityManager } from 'typeorm';
import { byIdLoader } from '../common/loaders';
import { findDesks, findLibraries } from './institution.repository';

export function createInstitutionLoaders(db: EntityManager, institutionId: string) {
  return {
    libraryById: byIdLoader((ids) => findLibraries(db, institutionId, ids)),
    deskById: byIdLoader((ids) => findDesks(db, institutionId, ids)),
  };
}
