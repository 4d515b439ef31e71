import type { DomainEvent } from '../events/outbox.repository';
import type { HistoryChange } from '../history/history.repository';
import type { Operator } from '../policy/operator';
import type { RemovedLink } from './removal.repository';

/**
 * When a user is deleted or purged, its proxy links go with it; the user on
 * the other side of each link (still there) loses it, which R9.1 records as
 * it records removeProxy: "proxy for" on a proxy, "proxies" on a sponsor,
 * and a PROXY_REMOVED event. `removedName` is what the entry shows for the
 * user that went (its identifier after a delete, a redaction after a purge).
 */
export function otherSidesOf(
  operator: Operator,
  links: RemovedLink[],
  removed: ReadonlySet<string>,
  removedName: (userId: string) => string | null,
): { history: HistoryChange[]; events: DomainEvent[] } {
  const sides = links.flatMap((link) => [
    { link, userId: link.sponsorUserId, field: 'proxies', gone: link.proxyUserId },
    { link, userId: link.proxyUserId, field: 'proxyFor', gone: link.sponsorUserId },
  ]).filter((side) => !removed.has(side.userId) && removed.has(side.gone));
  return {
    history: sides.map((s) => ({
      institutionId: operator.institutionId, userId: s.userId, field: s.field, oldValue: removedName(s.gone), newValue: null, changedBy: operator.label,
    })),
    events: sides.map((s) => ({
      institutionId: operator.institutionId, eventType: 'PROXY_REMOVED', aggregateType: 'USER', aggregateId: s.userId, actor: operator.label,
      payload: {
        proxyLinkId: s.link.id, proxyUserId: s.link.proxyUserId, sponsorUserId: s.link.sponsorUserId, fulfillment: s.link.isFulfillment,
        changes: [{ field: s.field, oldValue: removedName(s.gone), newValue: null }],
      },
    })),
  };
}
