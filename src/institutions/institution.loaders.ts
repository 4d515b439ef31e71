import type { EntityManager } from 'typeorm';
import { byIdLoader, groupedLoader } from '../common/loaders';
import { findDesks, findDesksOfLibraries, findLibraries } from './institution.repository';

export function createInstitutionLoaders(db: EntityManager, institutionId: string) {
  return {
    libraryById: byIdLoader((ids) => findLibraries(db, institutionId, ids)),
    deskById: byIdLoader((ids) => findDesks(db, institutionId, ids)),
    desksByLibrary: groupedLoader((ids) => findDesksOfLibraries(db, institutionId, ids), (d) => d.libraryId),
  };
}
