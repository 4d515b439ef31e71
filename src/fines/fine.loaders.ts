import type DataLoader from 'dataloader';
import type { EntityManager } from 'typeorm';
import type { FineFee } from '../db/entities';
import { byIdLoader, groupedLoader, keyedLoader } from '../common/loaders';
import type { OwnerScope } from '../policy/scope';
import { emptyFineSummary } from './fine-summary';
import { findActionsOf, findFineSummariesOf, findFinesInScope, findFinesOf } from './fine.repository';

export function createFineLoaders(db: EntityManager, institutionId: string, scope: OwnerScope) {
  // One loader per status filter, so users asked with the same filter share one statement.
  const byStatuses = new Map<string, DataLoader<string, FineFee[]>>();
  return {
    // Scoped in the statement itself, not by trusting the parent Fine to have been: hidden fines' actions never load (R5.2).
    fineActionsByFine: groupedLoader((ids) => findActionsOf(db, institutionId, scope, ids), (a) => a.fineId),
    fineById: byIdLoader((ids) => findFinesInScope(db, institutionId, scope, ids)),
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
