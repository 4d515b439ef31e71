import type DataLoader from 'dataloader';
import type { EntityManager } from 'typeorm';
import type { FineFee } from '../db/entities';
import { groupedLoader, keyedLoader } from '../common/loaders';
import type { OwnerScope } from '../policy/scope';
import { emptyFineSummary } from './fine-summary';
import { findActionsOf, findFineSummariesOf, findFinesOf } from './fine.repository';

export function createFineLoaders(db: EntityManager, institutionId: string, scope: OwnerScope) {
  // One loader per status filter, so users asked with the same filter share one statement.
  const byStatuses = new Map<string, DataLoader<string, FineFee[]>>();
  return {
    // Only reached through a Fine the operator was allowed to see, so the institution is the only filter needed.
    fineActionsByFine: groupedLoader((ids) => findActionsOf(db, institutionId, ids), (a) => a.fineId),
    fineSummaryByUser: keyedLoader((ids) => findFineSummariesOf(db, institutionId, scope, ids), (s) => s.userId, emptyFineSummary),
    finesByUser(statuses: readonly string[]): DataLoader<string, FineFee[]> {
      const key = [...new Set(statuses)].sort().join(',');
      let loader = byStatuses.get(key);
      if (!loader) {
        loader = groupedLoader((ids) => findFinesOf(db, institutionId, scope, key.split(','), ids), (f) => f.userId);
        byStatuses.set(key, loader);
      }
      return loader;
    },
  };
}
