import type { EntityManager } from 'typeorm';
import { ProxyLink } from '../db/entities';

/** Proxy links in which each of the users acts as proxy (R8). */
export function findProxyLinksOf(db: EntityManager, institutionId: string, proxyUserIds: string[]): Promise<ProxyLink[]> {
  return db.getRepository(ProxyLink).createQueryBuilder('p')
    .where('p.institution_id = :institutionId AND p.proxy_user_id = ANY(:proxyUserIds::uuid[])', { institutionId, proxyUserIds })
    .orderBy('p.created_at', 'ASC')
    .getMany();
}
