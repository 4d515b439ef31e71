import { notFound } from '../common/errors';
import type { RequestContext } from '../context';
import type { User } from '../db/entities';
import { findInstitution } from '../institutions/institution.repository';
import { ROLE_TYPES, roleTypeInfo } from '../roles/role-types';
import { findNamedUsers } from './named-users.repository';

/** The role types that make an ACTIVE user a named user (R4.4), straight from the catalogue. */
const COUNTING_ROLE_TYPES = ROLE_TYPES.filter((r) => r.namedUser).map((r) => r.code);

export interface NamedUsersReport {
  allotment: number;
  count: number;
  remaining: number;
  overAllotment: boolean;
  users: { user: User; countingRoles: string[]; reason: string }[];
}

function reason(countingRoles: string[]): string {
  return `ACTIVE and holds ${countingRoles.map((code) => roleTypeInfo(code)?.label ?? code).join(', ')}`;
}

/** R4.4: who counts as a named user in the operator's institution, against the contractual allotment. */
export async function namedUsersReport(ctx: RequestContext): Promise<NamedUsersReport> {
  const operator = ctx.policy.assert('report.namedUsers');
  const institution = await findInstitution(ctx.db.manager, operator.institutionId);
  if (!institution) throw notFound('The operator’s institution no longer exists');
  const rows = await findNamedUsers(ctx.db.manager, operator.institutionId, COUNTING_ROLE_TYPES);
  for (const { user } of rows) ctx.loaders.userById.prime(user.id, user);
  const allotment = institution.namedUserAllotment;
  const count = rows.length;
  return {
    allotment,
    count,
    remaining: allotment - count,
    overAllotment: count > allotment,
    users: rows.map((row) => ({ user: row.user, countingRoles: row.countingRoles, reason: reason(row.countingRoles) })),
  };
}
