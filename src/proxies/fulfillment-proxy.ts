import type { EntityManager } from 'typeorm';
import type { RequestContext } from '../context';
import type { ProxyLink, User } from '../db/entities';
import { lockUserForChange } from '../users/user-target';
import { assertLinkable, createLink } from './proxy-link';

const FIELD = 'input.fulfillmentProxyFor';

/**
 * R8.2: a fulfillment proxy is made with the user, inside createUser's
 * transaction, so a sponsor that fails a rule fails the whole creation and
 * no user is left behind. The sponsor's record gains a proxy, so it is
 * locked and judged by the policy like any other change target; so is the
 * new user (a protected account can be neither side, R4.5).
 */
export async function linkFulfillmentProxy(ctx: RequestContext, tx: EntityManager, proxy: User, sponsorId: string): Promise<ProxyLink> {
  const { operator, user: sponsor } = await lockUserForChange(ctx, tx, 'proxy.manage', sponsorId, FIELD);
  ctx.policy.assertCanChange('proxy.manage', proxy);
  await assertLinkable(tx, operator, proxy, sponsor, { proxy: FIELD, sponsor: FIELD });
  return createLink(tx, operator, proxy, sponsor, true);
}
