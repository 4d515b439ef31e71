import type { EntityManager } from 'typeorm';
import { groupedLoader } from '../common/loaders';
import { findProxyLinksFor, findProxyLinksOf } from './proxy.repository';

export function createProxyLoaders(db: EntityManager, institutionId: string) {
  return {
    proxyLinksByProxy: groupedLoader((ids) => findProxyLinksOf(db, institutionId, ids), (p) => p.proxyUserId),
    proxyLinksBySponsor: groupedLoader((ids) => findProxyLinksFor(db, institutionId, ids), (p) => p.sponsorUserId),
  };
}
