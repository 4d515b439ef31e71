import type { RequestContext } from '../context';
import type { UserCountRow, UserDimension, UsersFilter } from '../generated/graphql';
import { checkNameSearch } from '../users/user-search.validation';
import { checkGroupBy, GROUP_ROWS_READ, withinGroupRows } from './group-by';
import { countUsersGrouped } from './user-counts.repository';

/**
 * The users list's filters that find one person (R2.3). Counted by ROLE_TYPE, CAMPUS or EXPIRY_MONTH, they would read
 * that person's roles, groups and dates, which need user.read (policy/field-access.ts: an analyst reads who a user is).
 */
const PERSON_FILTERS = ['identifier', 'email', 'name'] as const;

/**
 * userCounts: users counted by up to three dimensions (issue 14), with the users list's filters, validated as the list
 * validates them, under its rules (institution, purged users left out, R5.2 for blocks and statistics).
 */
export async function countUsersBy(ctx: RequestContext, filter: UsersFilter, groupBy: UserDimension[]): Promise<UserCountRow[]> {
  const operator = ctx.policy.assert('report.analytics');
  if (PERSON_FILTERS.some((field) => filter[field] != null && filter[field] !== '')) ctx.policy.assert('user.read');
  checkNameSearch(filter.name);
  checkGroupBy(groupBy);
  const on = { db: ctx.db.manager, institutionId: operator.institutionId, scope: ctx.policy.ownerScope() };
  return withinGroupRows(await countUsersGrouped(on, filter, groupBy, GROUP_ROWS_READ));
}
