import type { EntityManager } from 'typeorm';
import { appendEvents } from '../events/outbox.repository';
import { recordHistory } from '../history/history.repository';
import type { Operator } from '../policy/operator';
import type { PurgePolicy } from './delete-user-policy.repository';
import { anonymiseUsers, deletePersonalItems, PURGED, redactEvents, redactHistory, redactLoginAttempts } from './purge.repository';
import { deleteProxyLinksOf } from './removal.repository';
import { otherSidesOf } from './unlinked-proxies';

/** A user about to be purged: its id, and its primary identifier, which other users' proxy history may quote. */
export interface PurgeTarget {
  id: string;
  primaryIdentifier: string | null;
}

/** History fields whose values are never personal: codes, states and facts (a password entry says "(changed)", never the value). */
const NEVER_PERSONAL = ['record', 'status', 'recordType', 'accountType', 'roles', 'fines', 'password'];

/** The history fields whose values a purge leaves in place under the policy; every other value is redacted. */
function keptHistoryFields(keep: PurgePolicy): string[] {
  return [
    ...NEVER_PERSONAL,
    ...(keep.keepUserGroup ? ['userGroup'] : []),
    ...(keep.keepCampus ? ['campus'] : []),
    ...(keep.keepDates ? ['expiryDate', 'purgeDate'] : []),
    ...(keep.keepStatistics ? ['statistics'] : []),
  ];
}

/**
 * The one purge code path (R10.3), for purgeUser (one user) and the purge
 * job (a batch): in the caller's transaction, with the users already locked
 * and judged, a fixed number of statements whatever the batch's size.
 * Removes the personal data (items, proxy links, roles, the row's personal
 * columns, and the values earlier history, events and sign-in attempts
 * copied), keeps what the delete-user policy keeps, and records a `purged`
 * history entry and a USER_PURGED event per user, plus the lost link of
 * each linked user that stays.
 */
export async function purgeUsers(tx: EntityManager, operator: Operator, keep: PurgePolicy, users: PurgeTarget[]): Promise<void> {
  if (users.length === 0) return;
  const { institutionId } = operator;
  const userIds = users.map((u) => u.id);
  const purged = new Set(userIds);
  const links = await deleteProxyLinksOf(tx, institutionId, userIds);
  const others = otherSidesOf(operator, links, purged, () => PURGED);
  await deletePersonalItems(tx, institutionId, userIds, keep.keepStatistics);
  await anonymiseUsers(tx, institutionId, userIds, keep, operator.label);
  const redaction = {
    institutionId,
    userIds,
    keptFields: keptHistoryFields(keep),
    identifiers: users.map((u) => u.primaryIdentifier).filter((id): id is string => id !== null),
    linkedUserIds: [...new Set(others.history.map((h) => h.userId!))],
  };
  // Before this purge's own entries are written: they hold nothing personal.
  await redactHistory(tx, redaction);
  await redactEvents(tx, redaction);
  await redactLoginAttempts(tx, institutionId, userIds);
  const change = { field: 'record', oldValue: null, newValue: 'purged' };
  await recordHistory(tx, [
    ...users.map((u) => ({ institutionId, userId: u.id, ...change, changedBy: operator.label })),
    ...others.history,
  ]);
  await appendEvents(tx, [
    ...users.map((u) => ({
      institutionId, eventType: 'USER_PURGED' as const, aggregateType: 'USER' as const, aggregateId: u.id, actor: operator.label,
      payload: { kept: keep, changes: [change] },
    })),
    ...others.events,
  ]);
}
