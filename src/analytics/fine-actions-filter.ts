import { badInput } from '../common/errors';
import type { SqlParams } from '../db/prepared';
import type { FineActionsFilter } from '../generated/graphql';
import type { OwnerScope } from '../policy/scope';
import { checkFinesFilter, FINES, fineConditions } from './fines-filter';

/**
 * The ledger filter of the analysts' reads (issue 14), as SQL on `fine_fee_action a` joined to its fine `f`: what is
 * about the fine (owner, fee type, and the operator's owner scope, R5.2) is the fines filter's own condition.
 */

/** Refuses bounds the wrong way round and an owner that is not an id, as BAD_USER_INPUT naming the field. */
export function checkActionsFilter(filter: FineActionsFilter, field: string): void {
  checkFinesFilter({ ownerLibraryId: filter.ownerLibraryId }, field);
  if (filter.from != null && filter.before != null && filter.from.getTime() > filter.before.getTime()) {
    throw badInput(`${field}.before`, 'before is before from');
  }
}

export function actionConditions(p: SqlParams, institutionId: string, scope: OwnerScope, filter: FineActionsFilter): string[] {
  const where = [
    `a.institution_id = ${p.once('institution', institutionId)}`,
    ...fineConditions(p, FINES, institutionId, scope, {
      ownerLibraryId: filter.ownerLibraryId, institutionOwned: filter.institutionOwned, feeType: filter.feeType,
    }),
  ];
  if (filter.type) where.push(`a.action_type = ANY(${p.add(filter.type)}::text[])`);
  if (filter.reason) where.push(`a.reason = ANY(${p.add(filter.reason)}::text[])`);
  if (filter.paymentMethod) where.push(`a.payment_method = ANY(${p.add(filter.paymentMethod)}::text[])`);
  if (filter.createdBy != null) where.push(`a.created_by = ${p.add(filter.createdBy)}`);
  if (filter.from != null) where.push(`a.created_at >= ${p.add(filter.from)}::timestamptz`);
  if (filter.before != null) where.push(`a.created_at < ${p.add(filter.before)}::timestamptz`);
  return where;
}
