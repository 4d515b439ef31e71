import type DataLoader from 'dataloader';
import type { EntityManager } from 'typeorm';
import { groupedLoader, keyedLoader } from '../common/loaders';
import type { HistoryEntry } from '../db/entities';
import { ownerParam, OwnerScope } from '../policy/scope';
import { countHistories, findHistoryPages } from './history.repository';

/**
 * History pages batched across users: users asked with the same page
 * arguments (typically every row of a list) share one statement.
 */
export function createHistoryLoaders(db: EntityManager, institutionId: string, scope: OwnerScope) {
  const owners = ownerParam(scope);
  const pages = new Map<string, DataLoader<string, HistoryEntry[]>>();
  return {
    historyPage(first: number, beforeId: string | null): DataLoader<string, HistoryEntry[]> {
      const key = `${first}:${beforeId ?? ''}`;
      let loader = pages.get(key);
      if (!loader) {
        loader = groupedLoader((userIds) => findHistoryPages(db, { institutionId, userIds, owners, first, beforeId }), (h) => h.userId!);
        pages.set(key, loader);
      }
      return loader;
    },
    historyCountByUser: keyedLoader(
      (userIds) => countHistories(db, { institutionId, userIds, owners }),
      (row) => row.userId,
      (userId) => ({ userId, count: 0 }),
    ),
  };
}
