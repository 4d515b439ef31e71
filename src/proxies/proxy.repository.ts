import type { EntityManager } from 'typeorm';
import { ProxyLink } from '../db/entities';

/** Proxy links in which each of the users acts as proxy (R8). */
export function findProxyLinksOf(db: EntityManager, institutionId: string, proxyUserIds: string[]): Promise<ProxyLink[]> {
  return db.getRepository(ProxyLink).createQueryBuilder('p')
    .where('p.institution_id = :institutionId AND p.proxy_user_id = ANY(:proxyUserIds::uuid[])', { institutionId, proxyUserIds })
    .orderBy('p.created_at', 'ASC')
    .getMany();
}

/** Proxy links in which each of the users is the sponsor (R8). */
export function findProxyLinksFor(db: EntityManager, institutionId: string, sponsorUserIds: string[]): Promise<ProxyLink[]> {
  return db.getRepository(ProxyLink).createQueryBuilder('p')
    .where('p.institution_id = :institutionId AND p.sponsor_user_id = ANY(:sponsorUserIds::uuid[])', { institutionId, sponsorUserIds })
    .orderBy('p.created_at', 'ASC')
    .addOrderBy('p.id', 'ASC')
    .getMany();
}

export function findProxyLink(db: EntityManager, institutionId: string, id: string): Promise<ProxyLink | null> {
  return db.getRepository(ProxyLink).findOneBy({ institutionId, id });
}

/** The links of a proxy that block a new one: the same sponsor again, or any fulfillment link (R8.2). */
export function findBlockingLinks(db: EntityManager, institutionId: string, proxyUserId: string, sponsorUserId: string): Promise<ProxyLink[]> {
  return db.getRepository(ProxyLink).createQueryBuilder('p')
    .where('p.institution_id = :institutionId AND p.proxy_user_id = :proxyUserId', { institutionId, proxyUserId })
    .andWhere('(p.sponsor_user_id = :sponsorUserId OR p.is_fulfillment)', { sponsorUserId })
    .getMany();
}


export function insertProxyLink(
  tx: EntityManager,
  link: Pick<ProxyLink, 'institutionId' | 'proxyUserId' | 'sponsorUserId' | 'isFulfillment' | 'createdBy'>,
): Promise<ProxyLink> {
  const repo = tx.getRepository(ProxyLink);
  return repo.save(repo.create(link));
}

export async function deleteProxyLink(tx: EntityManager, institutionId: string, id: string): Promise<void> {
  await tx.getRepository(ProxyLink).delete({ institutionId, id });
}
