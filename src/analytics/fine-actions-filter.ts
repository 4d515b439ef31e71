import { badInput } from '../common/errors';
import type { SqlParams } from '../db/prepared';
import type { FineActionsFilter } from '../generated/graphql';
import { ownerCondition, ownerParam, OwnerScope } from '../policy/scope';
import { checkFinesFilter, isMonthStart } from './fines-filter';

/**
 * The ledger filter of the analysts' reads (issue 14), as SQL on two sources: the actions themselves
 * (`fine_fee_action a`, which carry their fine's owner and fee type) and the ledger totals the database keeps per key
 * (`fine_action_total_delta t`, migration FineAnalytics), which answer every filter but the operator's, and dates on
 * UTC month boundaries.
 */

export interface ActionSource {
  institution: string;
  owner: string;
  type: string;
  actionType: string;
  reason: string;
  method: string;
  /** The instant of the action, or the UTC month it falls in. */
  created: string;
}

export const ACTIONS: ActionSource = {
  institution: 'a.institution_id', owner: 'a.owner_library_id', type: 'a.fine_type', actionType: 'a.action_type', reason: 'a.reason',
  method: 'a.payment_method', created: 'a.created_at',
};

export const ACTION_TOTALS: ActionSource = {
  institution: 't.institution_id', owner: 't.owner_library_id', type: 't.fine_type', actionType: 't.action_type', reason: 't.reason',
  method: 't.payment_method', created: 't.action_month',
};

/** Refuses bounds the wrong way round and an owner that is not an id, as BAD_USER_INPUT naming the field. */
export function checkActionsFilter(filter: FineActionsFilter, field: string): void {
  checkFinesFilter({ ownerLibraryId: filter.ownerLibraryId }, field);
  if (filter.from != null && filter.before != null && filter.from.getTime() > filter.before.getTime()) {
    throw badInput(`${field}.before`, 'before is before from');
  }
}

/** Whether the kept ledger totals can answer the filter: not by operator, and dates, if any, on UTC month starts. */
export function actionTotalsAnswer(filter: FineActionsFilter): boolean {
  return filter.createdBy == null && (filter.from == null || isMonthStart(filter.from)) && (filter.before == null || isMonthStart(filter.before));
}

/** The conditions of `filter` on `source`, within the institution and the owners the operator may see (R5.2). */
export function actionConditions(p: SqlParams, source: ActionSource, institutionId: string, scope: OwnerScope, filter: FineActionsFilter): string[] {
  const where = [`${source.institution} = ${p.once('institution', institutionId)}`, ownerCondition(source.owner, p.once('owners', ownerParam(scope)))];
  if (filter.type) where.push(`${source.actionType} = ANY(${p.add(filter.type)}::text[])`);
  if (filter.reason) where.push(`${source.reason} = ANY(${p.add(filter.reason)}::text[])`);
  if (filter.paymentMethod) where.push(`${source.method} = ANY(${p.add(filter.paymentMethod)}::text[])`);
  if (filter.ownerLibraryId != null) where.push(`${source.owner} = ${p.add(filter.ownerLibraryId)}::uuid`);
  if (filter.institutionOwned != null) where.push(`${source.owner} IS ${filter.institutionOwned ? '' : 'NOT '}NULL`);
  if (filter.feeType) where.push(`${source.type} = ANY(${p.add(filter.feeType)}::text[])`);
  const bound = (value: Date) => (source === ACTIONS ? `${p.add(value)}::timestamptz` : `${p.add(value.toISOString().slice(0, 10))}::date`);
  if (filter.from != null) where.push(`${source.created} >= ${bound(filter.from)}`);
  if (filter.before != null) where.push(`${source.created} < ${bound(filter.before)}`);
  if (filter.createdBy != null) where.push(`a.created_by = ${p.add(filter.createdBy)}`);
  return where;
}
