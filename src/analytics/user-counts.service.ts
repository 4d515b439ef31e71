import type { RequestContext } from '../context';
import type { UserCountRow, UserDimension, UsersFilter } from '../generated/graphql';

/** userCounts: users counted by up to three dimensions (issue 14). */
export async function countUsersBy(_ctx: RequestContext, _filter: UsersFilter, _groupBy: UserDimension[]): Promise<UserCountRow[]> {
  throw new Error('not built yet');
}
