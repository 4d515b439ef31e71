import type { EntityManager } from 'typeorm';
import { badInput, notFound } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { RequestContext } from '../context';
import type { ProxyLink, User } from '../db/entities';
import { inTransaction } from '../db/transaction';
import type { Operator } from '../policy/operator';
import { lockUserForChange } from '../users/user-target';
import { assertLinkable, createLink, removeLink } from './proxy-link';
import { findProxyLink } from './proxy.repository';

/**
 * addProxy / removeProxy (R8.1). A link changes both users' records, so both
 * are locked and both must be changeable by the operator ('proxy.manage' for
 * their record type, never a protected account, R4.5).
 */

interface LockedPair {
  operator: Operator;
  proxy: User;
  sponsor: User;
}

/** Locks the two users in id order, so requests on the same two users (whichever is the sponsor) queue instead of deadlocking. */
async function lockPair(ctx: RequestContext, tx: EntityManager, proxyUserId: string, sponsorUserId: string): Promise<LockedPair> {
  const targets = [
    { side: 'proxy' as const, id: proxyUserId, field: 'proxyUserId' },
    { side: 'sponsor' as const, id: sponsorUserId, field: 'sponsorUserId' },
  ].sort((a, b) => (a.id.toLowerCase() < b.id.toLowerCase() ? -1 : 1));
  const locked: Partial<LockedPair> = {};
  for (const target of targets) {
    const { operator, user } = await lockUserForChange(ctx, tx, 'proxy.manage', target.id, target.field);
    locked.operator = operator;
    locked[target.side] = user;
  }
  return locked as LockedPair;
}

/** Loaded links of these users may be stale after a change made earlier in the same request. */
function forgetLinksOf(ctx: RequestContext, proxyUserId: string, sponsorUserId: string): void {
  ctx.loaders.proxyLinksByProxy.clear(proxyUserId);
  ctx.loaders.proxyLinksBySponsor.clear(sponsorUserId);
}

export async function addProxy(ctx: RequestContext, proxyUserId: string, sponsorUserId: string): Promise<ProxyLink> {
  ctx.policy.assert('proxy.manage');
  const link = await inTransaction(ctx.db, async (tx) => {
    const { operator, proxy, sponsor } = await lockPair(ctx, tx, proxyUserId, sponsorUserId);
    await assertLinkable(tx, operator, proxy, sponsor, { proxy: 'proxyUserId', sponsor: 'sponsorUserId' });
    return createLink(tx, operator, proxy, sponsor, false);
  });
  forgetLinksOf(ctx, link.proxyUserId, link.sponsorUserId);
  return link;
}

/** Removes a link and returns its sponsor; a fulfillment link stays forever (R8.2). */
export async function removeProxy(ctx: RequestContext, id: string): Promise<User> {
  const operator = ctx.policy.assert('proxy.manage');
  if (!isUuid(id)) throw badInput('id', 'Not a proxy link id');
  const { link, sponsor } = await inTransaction(ctx.db, async (tx) => {
    const found = await findProxyLink(tx, operator.institutionId, id);
    if (!found) throw notFound('No such proxy link in your institution');
    const pair = await lockPair(ctx, tx, found.proxyUserId, found.sponsorUserId);
    // Read again under the users' locks: another request may have removed it while this one waited.
    const link = await findProxyLink(tx, operator.institutionId, id);
    if (!link) throw notFound('No such proxy link in your institution');
    // A rule of the link itself, not of who asks: nobody may unlink it, hence not FORBIDDEN.
    if (link.isFulfillment) throw badInput('id', `${pair.proxy.primaryIdentifier} is a fulfillment proxy of ${pair.sponsor.primaryIdentifier}: it can never be unlinked (R8.2)`);
    await removeLink(tx, pair.operator, link, pair.proxy, pair.sponsor);
    return { link, sponsor: pair.sponsor };
  });
  forgetLinksOf(ctx, link.proxyUserId, sponsor.id);
  return sponsor;
}
