import type { EntityManager } from 'typeorm';
import { badInput, conflict } from '../common/errors';
import type { ProxyLink, User } from '../db/entities';
import { recordUserChange } from '../history/record-change';
import type { Operator } from '../policy/operator';
import { holdsActivePatronRole } from '../roles/role.repository';
import { deleteProxyLink, findBlockingLinks, insertProxyLink } from './proxy.repository';

/**
 * The rules of a proxy link (R8) and its record (R9.1, R11.3), shared by
 * addProxy and by createUser's fulfillment proxy. The callers have locked
 * both users and let the policy judge them as change targets.
 */

/** The input paths errors name: addProxy's two arguments, or createUser's one field for both. */
export interface LinkFields {
  proxy: string;
  sponsor: string;
}

export async function assertLinkable(tx: EntityManager, operator: Operator, proxy: User, sponsor: User, fields: LinkFields): Promise<void> {
  if (proxy.id === sponsor.id) throw badInput(fields.proxy, 'A user cannot be its own proxy (R8.1)');
  if (proxy.recordType === 'CONTACT') throw badInput(fields.proxy, 'A contact cannot be a proxy: contacts only hold contact information and notes (R1.1)');
  if (sponsor.recordType === 'CONTACT') throw badInput(fields.sponsor, 'A contact cannot be a sponsor: contacts only hold contact information and notes (R1.1)');
  if (sponsor.recordType !== 'PUBLIC' || !(await holdsActivePatronRole(tx, operator.institutionId, sponsor.id))) {
    throw badInput(fields.sponsor, `${sponsor.primaryIdentifier} is not a patron: a sponsor must be a PUBLIC user holding an active Patron role (R8.1)`);
  }
  const blocking = await findBlockingLinks(tx, operator.institutionId, proxy.id, sponsor.id);
  if (blocking.some((l) => l.sponsorUserId === sponsor.id)) {
    throw conflict(`${proxy.primaryIdentifier} is already a proxy for ${sponsor.primaryIdentifier}`, { field: fields.sponsor, value: sponsor.id });
  }
  // A fulfillment proxy's loans and requests all belong to its sponsor (R8.2), so it cannot act for anyone else.
  if (blocking.length > 0) throw badInput(fields.proxy, `${proxy.primaryIdentifier} is a fulfillment proxy: it acts for its sponsor only (R8.2)`);
}

/** Both users' side of a link, as history entries and one event each: "proxy for" on the proxy (R9.1), "proxies" on the sponsor. */
async function recordLinkChange(tx: EntityManager, operator: Operator, link: ProxyLink, proxy: User, sponsor: User, kind: 'added' | 'removed') {
  const eventType = kind === 'added' ? 'PROXY_ADDED' : 'PROXY_REMOVED';
  const payload = { proxyLinkId: link.id, proxyUserId: proxy.id, sponsorUserId: sponsor.id, fulfillment: link.isFulfillment };
  const change = (field: string, value: string | null) =>
    [{ field, oldValue: kind === 'removed' ? value : null, newValue: kind === 'added' ? value : null }];
  await recordUserChange(tx, operator, proxy.id, eventType, change('proxyFor', sponsor.primaryIdentifier), payload);
  await recordUserChange(tx, operator, sponsor.id, eventType, change('proxies', proxy.primaryIdentifier), payload);
}

export async function createLink(tx: EntityManager, operator: Operator, proxy: User, sponsor: User, fulfillment: boolean): Promise<ProxyLink> {
  const link = await insertProxyLink(tx, {
    institutionId: operator.institutionId, proxyUserId: proxy.id, sponsorUserId: sponsor.id, isFulfillment: fulfillment, createdBy: operator.label,
  });
  await recordLinkChange(tx, operator, link, proxy, sponsor, 'added');
  return link;
}

export async function removeLink(tx: EntityManager, operator: Operator, link: ProxyLink, proxy: User, sponsor: User): Promise<void> {
  await deleteProxyLink(tx, operator.institutionId, link.id);
  await recordLinkChange(tx, operator, link, proxy, sponsor, 'removed');
}
