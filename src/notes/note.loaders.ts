import type { EntityManager } from 'typeorm';
import { groupedLoader } from '../common/loaders';
import type { OwnerScope } from '../policy/scope';
import { findNotesOf } from './note.repository';

export function createNoteLoaders(db: EntityManager, institutionId: string, scope: OwnerScope) {
  return {
    notesByUser: groupedLoader((ids) => findNotesOf(db, institutionId, scope, ids), (n) => n.userId),
  };
}
