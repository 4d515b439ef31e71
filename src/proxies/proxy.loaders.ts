import type { EntityManager } from 'typeorm';
import { groupedLoader } from '../common/loaders';
import { findProxyLinksOf } from './proxy.repository';

export function createProxyLoaders(db: EntityManager, institutionId: string) {
  return {
    proxyLinksByProxy: groupedLoader((ids) => findProxyLinksOf(db, institutionId, ids), (p) => p.proxyUserId),
  };
}
