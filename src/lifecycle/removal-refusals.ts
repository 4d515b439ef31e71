import { GraphQLError } from 'graphql';
import { conflict } from '../common/errors';
import type { RemovalBlocker } from '../generated/graphql';
import type { RemovalBlockers } from './removal.repository';

/** One reason a user cannot be removed now, as `RemovalRefusal` in the SDL. */
export interface RemovalRefusal {
  code: RemovalBlocker;
  message: string;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** Every R10.2 reason the blockers give, not only the first: the refusal says all that must be settled. */
export function refusalsOf(blockers: RemovalBlockers | undefined): RemovalRefusal[] {
  if (!blockers) return [];
  const refusals: RemovalRefusal[] = [];
  if (blockers.finesDue > 0) {
    refusals.push({
      code: 'BALANCE_DUE',
      message: `A balance of ${blockers.balanceDue} is due on ${plural(blockers.finesDue, 'fine', 'fines')} (active or disputed): waive or collect it first`,
    });
  }
  if (blockers.openLoans > 0) {
    refusals.push({ code: 'OPEN_LOANS', message: `${plural(blockers.openLoans, 'loan is', 'loans are')} not returned yet` });
  }
  return refusals;
}

/**
 * R10.2 for deleteUser and purgeUser: CONFLICT when anything stands in the
 * way, every reason in `extensions.reasons` ([{ code, message }]).
 */
export function assertRemovable(what: 'deleted' | 'purged', userId: string, blockers: RemovalBlockers | undefined): void {
  const reasons = refusalsOf(blockers);
  if (reasons.length === 0) return;
  const base = conflict(`The user cannot be ${what} now (R10.2): ${reasons.map((r) => r.message).join('; ')}`, { field: 'id', value: userId });
  throw new GraphQLError(base.message, { extensions: { ...base.extensions, reasons } });
}
