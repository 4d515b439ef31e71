import type { EntityManager } from 'typeorm';
import { byIdLoader, groupedLoader } from '../common/loaders';
import type { OwnerScope } from '../policy/scope';
import { findNotesInScope, findNotesOf } from './note.repository';

export function createNoteLoaders(db: EntityManager, institutionId: string, scope: OwnerScope) {
  return {
    notesByUser: groupedLoader((ids) => findNotesOf(db, institutionId, scope, ids), (n) => n.userId),
    noteById: byIdLoader((ids) => findNotesInScope(db, institutionId, scope, ids)),
  };
}
