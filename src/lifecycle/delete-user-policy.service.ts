import type { RequestContext } from '../context';
import { inTransaction } from '../db/transaction';
import { appendEvents } from '../events/outbox.repository';
import type { DeleteUserPolicyInput } from '../generated/graphql';
import { findPurgePolicy, POLICY_FIELDS, PurgePolicy, updatePurgePolicy } from './delete-user-policy.repository';

/** The institution's delete-user policy (R10.3): what purging keeps. Any operator may read it. */
export function getDeleteUserPolicy(ctx: RequestContext): Promise<PurgePolicy> {
  return findPurgePolicy(ctx.db.manager, ctx.policy.authenticated().institutionId);
}

/**
 * setDeleteUserPolicy: changes the settings given (a field left out or null
 * stays), in one transaction with the institution row locked, and publishes
 * a DELETE_USER_POLICY_CHANGED event naming the changes; no change, no event.
 */
export function setDeleteUserPolicy(ctx: RequestContext, input: DeleteUserPolicyInput): Promise<PurgePolicy> {
  const operator = ctx.policy.assert('deleteUserPolicy.manage');
  return inTransaction(ctx.db, async (tx) => {
    const before = await findPurgePolicy(tx, operator.institutionId, { lock: true });
    const after: PurgePolicy = { ...before };
    for (const field of POLICY_FIELDS) after[field] = input[field] ?? before[field];
    const changes = POLICY_FIELDS.filter((f) => after[f] !== before[f])
      .map((field) => ({ field, oldValue: String(before[field]), newValue: String(after[field]) }));
    if (changes.length === 0) return before;
    await updatePurgePolicy(tx, operator.institutionId, after);
    await appendEvents(tx, [{
      institutionId: operator.institutionId, eventType: 'DELETE_USER_POLICY_CHANGED', aggregateType: 'INSTITUTION',
      aggregateId: operator.institutionId, actor: operator.label, payload: { policy: after, changes },
    }]);
    return after;
  });
}
