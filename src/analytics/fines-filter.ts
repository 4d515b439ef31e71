import { badInput } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { SqlParams } from '../db/prepared';
import { toCents } from '../fines/money';
import type { FinesFilter } from '../generated/graphql';
import { ownerCondition, ownerParam, OwnerScope } from '../policy/scope';

/**
 * The fines filter of the analysts' reads (issue 14), as SQL. One definition serves two sources: the fines themselves
 * (`fine_fee f`) and the totals the database keeps per key (`fine_total_delta d`, migration FineAnalytics), which can
 * answer every filter on a key column, and creation dates on UTC month boundaries.
 */

/** Where each filtered attribute lives in a source. */
export interface FineSource {
  institution: string;
  owner: string;
  status: string;
  type: string;
  userGroup: string;
  recordType: string;
  disputed: string;
  /** The creation instant (fine_fee), or the UTC month it falls in (fine_total_delta). */
  created: string;
}

export const FINES: FineSource = {
  institution: 'f.institution_id', owner: 'f.owner_library_id', status: 'f.status', type: 'f.fine_type', userGroup: 'f.user_group',
  recordType: 'f.user_record_type', disputed: 'f.disputed', created: 'f.created_at',
};

export const FINE_TOTALS: FineSource = {
  institution: 'd.institution_id', owner: 'd.owner_library_id', status: 'd.status', type: 'd.fine_type', userGroup: 'd.user_group',
  recordType: 'd.record_type', disputed: 'd.disputed', created: 'd.created_month',
};

export const isMonthStart = (d: Date) => d.getUTCDate() === 1 && d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0
  && d.getUTCMilliseconds() === 0;

/**
 * Whether the kept totals can answer the filter: it filters on key columns only, and its creation bounds, if any, are
 * the first instants of UTC months (so each month is wholly in or out).
 */
export function totalsAnswer(filter: FinesFilter): boolean {
  return filter.closedFrom == null && filter.closedBefore == null && filter.minAmount == null && filter.maxAmount == null
    && filter.userExpiresFrom == null && filter.userExpiresBefore == null
    && (filter.createdFrom == null || isMonthStart(filter.createdFrom))
    && (filter.createdBefore == null || isMonthStart(filter.createdBefore));
}

/** Refuses what no fine can match by mistake (bounds the wrong way round, an owner that is not an id) as BAD_USER_INPUT. */
export function checkFinesFilter(filter: FinesFilter, field = 'filter'): void {
  if (filter.ownerLibraryId != null && !isUuid(filter.ownerLibraryId)) throw badInput(`${field}.ownerLibraryId`, 'Not a library id (see `libraries`)');
  const ordered = (from: unknown, to: unknown, name: string, fromName: string) => {
    if (from != null && to != null && compare(from, to) > 0) throw badInput(`${field}.${name}`, `${name} is before ${fromName}`);
  };
  ordered(filter.createdFrom, filter.createdBefore, 'createdBefore', 'createdFrom');
  ordered(filter.closedFrom, filter.closedBefore, 'closedBefore', 'closedFrom');
  ordered(filter.userExpiresFrom, filter.userExpiresBefore, 'userExpiresBefore', 'userExpiresFrom');
  if (filter.minAmount != null && filter.maxAmount != null && toCents(filter.minAmount) > toCents(filter.maxAmount)) {
    throw badInput(`${field}.maxAmount`, 'maxAmount is below minAmount');
  }
}

function compare(a: unknown, b: unknown): number {
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/**
 * The conditions of `filter` on `source`, within the institution and the owners the operator may see (R5.2).
 * Conditions the kept totals cannot answer apply to the fines only (callers check `totalsAnswer` first).
 */
export function fineConditions(p: SqlParams, source: FineSource, institutionId: string, scope: OwnerScope, filter: FinesFilter): string[] {
  const where = [`${source.institution} = ${p.once('institution', institutionId)}`, ownerCondition(source.owner, p.once('owners', ownerParam(scope)))];
  if (filter.status) where.push(`${source.status} = ANY(${p.add(filter.status)}::text[])`);
  if (filter.feeType) where.push(`${source.type} = ANY(${p.add(filter.feeType)}::text[])`);
  if (filter.ownerLibraryId != null) where.push(`${source.owner} = ${p.add(filter.ownerLibraryId)}::uuid`);
  if (filter.institutionOwned != null) where.push(`${source.owner} IS ${filter.institutionOwned ? '' : 'NOT '}NULL`);
  if (filter.userGroup != null) where.push(`${source.userGroup} = ${p.add(filter.userGroup)}`);
  if (filter.recordType != null) where.push(`${source.recordType} = ${p.add(filter.recordType)}`);
  if (filter.hasDispute != null) where.push(`${source.disputed} = ${p.add(filter.hasDispute)}::boolean`);
  const bound = (value: Date) => (source === FINES ? `${p.add(value)}::timestamptz` : `${p.add(value.toISOString().slice(0, 10))}::date`);
  if (filter.createdFrom != null) where.push(`${source.created} >= ${bound(filter.createdFrom)}`);
  if (filter.createdBefore != null) where.push(`${source.created} < ${bound(filter.createdBefore)}`);
  if (source !== FINES) return where;
  if (filter.closedFrom != null || filter.closedBefore != null) where.push(`f.status = 'CLOSED'`);
  if (filter.closedFrom != null) where.push(`f.status_date >= ${p.add(filter.closedFrom)}::timestamptz`);
  if (filter.closedBefore != null) where.push(`f.status_date < ${p.add(filter.closedBefore)}::timestamptz`);
  if (filter.minAmount != null) where.push(`f.original_amount >= ${p.add(filter.minAmount)}::numeric`);
  if (filter.maxAmount != null) where.push(`f.original_amount <= ${p.add(filter.maxAmount)}::numeric`);
  // The fine's copy of its user's expiry date (kept by the database): one index serves the range and the sums.
  if (filter.userExpiresFrom != null) where.push(`f.user_expiry_date >= ${p.add(filter.userExpiresFrom)}::date`);
  if (filter.userExpiresBefore != null) where.push(`f.user_expiry_date < ${p.add(filter.userExpiresBefore)}::date`);
  return where;
}
