import type { EntityManager } from 'typeorm';
import type { RequestContext } from '../context';
import { inTransaction } from '../db/transaction';
import { User } from '../db/entities';
import { appendEvents } from '../events/outbox.repository';
import type { UpdateUserInput } from '../generated/graphql';
import { FieldChange, recordUserChange } from '../history/record-change';
import type { Operator } from '../policy/operator';
import { applyAssignmentRules } from '../roles/role.service';
import { findRolesOf } from '../roles/role.repository';
import { historyText, RECORDED_FIELDS } from './kept-fields';
import { checkUserCodes } from './user-codes';
import { lockUserForChange } from './user-target';
import { planUserUpdate, SIGN_IN_FIELDS, UserUpdatePlan } from './user-update.validation';

const COLUMN_OF: Partial<Record<string, keyof User>> = { restricted: 'isRestricted' };

function historyOf(user: User, plan: UserUpdatePlan): FieldChange[] {
  return RECORDED_FIELDS.filter((field) => field in plan.changes)
    .map((field) => ({ field, oldValue: historyText(user[field]), newValue: historyText(plan.changes[field]) }));
}

async function writeChanges(tx: EntityManager, operator: Operator, user: User, plan: UserUpdatePlan): Promise<User> {
  const columns = Object.fromEntries(Object.entries(plan.changes).map(([field, value]) => [COLUMN_OF[field] ?? field, value]));
  await tx.getRepository(User).update({ id: user.id }, { ...columns, updatedBy: operator.label });
  return tx.getRepository(User).findOneByOrFail({ id: user.id });
}

/**
 * updateUser (R1.4, R3.3, R9.1): one transaction that locks the user (the
 * policy decides, for the record type it has and, when it changes, the one
 * it gets), checks the input, writes only what changes, re-applies role
 * assignment rules when the job category or user group changes (R4.3), and
 * records one history entry per changed R9.1 field plus a USER_UPDATED event.
 * Changing how the user signs in (SIGN_IN_FIELDS) is a change of its access:
 * the subset rule applies, as for its password (setUserPassword).
 */
export async function updateUser(ctx: RequestContext, id: string, input: UpdateUserInput): Promise<User> {
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user } = await lockUserForChange(ctx, tx, 'user.update', id, 'id');
    if (input.recordType && input.recordType !== user.recordType) ctx.policy.assert('user.update', { recordType: input.recordType });
    const plan = planUserUpdate(input, user);
    const changed = Object.keys(plan.changes);
    if (changed.length === 0) return user;
    if (SIGN_IN_FIELDS.some((field) => field in plan.changes)) {
      ctx.policy.assertMayChangeAccess('user.update', user, await findRolesOf(tx, operator.institutionId, [user.id]));
    }
    await checkUserCodes(tx, operator.institutionId, plan.changes, input);
    const updated = await writeChanges(tx, operator, user, plan);
    if ('jobCategory' in plan.changes || 'userGroup' in plan.changes) await applyAssignmentRules(ctx, tx, [updated]);
    const history = historyOf(user, plan);
    // Fields outside R9.1 leave no history but partners still hear that the user changed (by field name only).
    if (history.length > 0) await recordUserChange(tx, operator, user.id, 'USER_UPDATED', history, { fields: changed });
    else {
      await appendEvents(tx, [{
        institutionId: operator.institutionId, eventType: 'USER_UPDATED', aggregateType: 'USER', aggregateId: user.id,
        payload: { fields: changed, changes: [] }, actor: operator.label,
      }]);
    }
    return updated;
  });
}
