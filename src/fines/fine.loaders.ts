import type DataLoader from 'dataloader';
import type { FineFee } from '../db/entities';
import { byIdLoader, groupedLoader } from '../common/loaders';
import { ChildScope, childLoader } from '../db/child-rows';
import { findActionsOf, findFinesInScope, findFinesOf, fineSummaryOfUser } from './fine.repository';

export function createFineLoaders(on: ChildScope) {
  const { db, institutionId, scope } = on;
  // One loader per status filter, so users asked with the same filter share one statement.
  const byStatuses = new Map<string, DataLoader<string, FineFee[]>>();
  return {
    // Scoped in the statement itself, not by trusting the parent Fine to have been: hidden fines' actions never load (R5.2).
    fineActionsByFine: groupedLoader((ids) => findActionsOf(db, institutionId, scope, ids), (a) => a.fineId),
    fineById: byIdLoader((ids) => findFinesInScope(db, institutionId, scope, ids)),
    fineSummaryByUser: childLoader(fineSummaryOfUser, on),
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
