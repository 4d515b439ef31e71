import type { EntityManager } from 'typeorm';
import { keyedLoader } from '../common/loaders';
import type { OwnerScope } from '../policy/scope';
import { emptyFineSummary } from './fine-summary';
import { findFineSummariesOf } from './fine.repository';

export function createFineLoaders(db: EntityManager, institutionId: string, scope: OwnerScope) {
  return {
    fineSummaryByUser: keyedLoader((ids) => findFineSummariesOf(db, institutionId, scope, ids), (s) => s.userId, emptyFineSummary),
  };
}
