import type { EventFamily } from '../generated/graphql';
import type { Operator } from './operator';
import type { Action } from './permissions';
import type { Policy } from './policy';
import { canSeeOwned, ownerCondition, ownerParam, OwnerScope, ownerScope } from './scope';

/**
 * Who may receive which change event (R11.3), decided once for live
 * subscriptions, replays and the `events` query alike: the event must be of
 * the operator's institution, of a family its permissions cover, and, when
 * it is about an owned item (a note, block, statistic or fine), owned where
 * the operator's scopes reach (R5.2), exactly as reads of those items are.
 */

/** The permissions each family of events needs. Every family needs user.read: events are about users' records. */
export const FAMILY_ACTIONS: Record<EventFamily, readonly Action[]> = {
  USER: ['user.read'],
  NOTE: ['user.read'],
  BLOCK: ['user.read'],
  STATISTIC: ['user.read'],
  ROLE: ['user.read'],
  FINE: ['user.read'],
  API_KEY: ['user.read', 'apiKey.manage'],
  INSTITUTION: ['user.read'],
};

/** Whether the operator may hold subscriptions at all: every one of them needs user.read (field-access.ts). */
export function maySubscribe(policy: Policy): boolean {
  return policy.can('user.read');
}

/** What decides whether an operator may receive an event. */
export interface EventAudience {
  institutionId: string;
  families: ReadonlySet<EventFamily>;
  scope: OwnerScope;
}

/** The columns of an outbox row the decision reads. */
export interface AudienceFacts {
  institutionId: string;
  family: EventFamily;
  ownerLibraryId: string | null;
}

export function eventAudience(policy: Policy, operator: Operator): EventAudience {
  const families = (Object.keys(FAMILY_ACTIONS) as EventFamily[]).filter((f) => FAMILY_ACTIONS[f].every((action) => policy.can(action)));
  return { institutionId: operator.institutionId, families: new Set(families), scope: ownerScope(operator) };
}

/** The live form of the decision: one outbox row, in memory (the rows an instance reads once for all its subscribers). */
export function mayReceive(audience: EventAudience, event: AudienceFacts): boolean {
  return event.institutionId === audience.institutionId && audience.families.has(event.family) && canSeeOwned(audience.scope, event.ownerLibraryId);
}

/**
 * The same decision as SQL over `event_outbox` aliased `alias`, for replays and the `events` query, with its
 * parameters starting at `$first`.
 */
export function audienceCondition(audience: EventAudience, alias: string, first: number): { sql: string; params: unknown[] } {
  return {
    sql: `${alias}.institution_id = $${first} AND ${alias}.family = ANY($${first + 1}::text[]) AND ${ownerCondition(`${alias}.owner_library_id`, `$${first + 2}`)}`,
    params: [audience.institutionId, [...audience.families], ownerParam(audience.scope)],
  };
}

/**
 * Operators with the same key get the same answer from the policy for every field of every event: the key holds
 * every fact the policy reads (institution, roles and their scopes, library independence, the restrictions),
 * except the operator's own id, which decides only "its own record" rules, and those always allow user.read too
 * (field-access.ts), which every family needs. Subscribers with the same key and the same query share one
 * execution per event (events/event-execution.ts).
 */
export function audienceKey(operator: Operator): string {
  const roles = operator.roles.map((r) => `${r.roleType}:${r.scopeType}:${r.libraryId ?? ''}:${r.deskId ?? ''}`).sort();
  return JSON.stringify([operator.institutionId, operator.kind, operator.libraryIndependence, operator.cannotEditRestricted,
    operator.passwordChangeRequired, operator.debtLimit, roles]);
}
