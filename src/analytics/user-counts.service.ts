import type { RequestContext } from '../context';
import type { UserCountRow, UserDimension, UsersFilter } from '../generated/graphql';
import { checkNameSearch } from '../users/user-search.validation';
import { checkGroupBy, GROUP_ROWS_READ, withinGroupRows } from './group-by';
import { countUsersGrouped } from './user-counts.repository';

/**
 * userCounts: users counted by up to three dimensions (issue 14), with the users list's filters, validated as the list
 * validates them, under its rules (institution, purged users left out, R5.2 for blocks and statistics). The filters
 * that find one person need user.read too (policy/field-access.ts ARGUMENT_ACCESS).
 */
export async function countUsersBy(ctx: RequestContext, filter: UsersFilter, groupBy: UserDimension[]): Promise<UserCountRow[]> {
  const operator = ctx.policy.assert('report.analytics');
  checkNameSearch(filter.name);
  checkGroupBy(groupBy);
  const on = { db: ctx.db.manager, institutionId: operator.institutionId, scope: ctx.policy.ownerScope() };
  return withinGroupRows(await countUsersGrouped(on, filter, groupBy, GROUP_ROWS_READ));
}
