import type { EntityManager } from 'typeorm';
import { groupedLoader } from '../common/loaders';
import type { OwnerScope } from '../policy/scope';
import { findStatisticsOf } from './statistic.repository';

export function createStatisticLoaders(db: EntityManager, institutionId: string, scope: OwnerScope) {
  return {
    statisticsByUser: groupedLoader((ids) => findStatisticsOf(db, institutionId, scope, ids), (s) => s.userId),
  };
}
