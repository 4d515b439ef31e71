import { badInput } from '../common/errors';
import type { RequestContext } from '../context';
import type { User } from '../db/entities';
import { ROLE_TYPES } from '../roles/role-types';
import { countLoginAttempts, findLoginAttempts, findStaffWithoutLoginSince } from './staff-login.repository';

const MAX_ATTEMPTS = 1000;

/** The role types that make their holder staff (they let it log in to the staff interface), from the catalogue. */
const STAFF_ROLE_TYPES = ROLE_TYPES.filter((r) => r.staff).map((r) => r.code);

export interface StaffLoginReportArgs {
  from: Date;
  to: Date;
  noLoginSince?: Date | null;
  first?: number | null;
  channel?: 'LOGIN' | 'PARTNER' | null;
}

export interface StaffLoginReport {
  from: Date;
  to: Date;
  successfulCount: number;
  failedCount: number;
  channel: 'LOGIN' | 'PARTNER';
  attempts: { at: Date; identifier: string; succeeded: boolean; reason: string | null; requestedBy: string | null; user: User | null }[];
  staffWithoutLoginSince: User[];
}

/**
 * R11.1: the institution's login attempts in [from, to] (staff logins, or with `channel: PARTNER` partners' checks of
 * users' passwords, R11.2), and the staff with no staff login since `noLoginSince`.
 */
export async function staffLoginReport(ctx: RequestContext, args: StaffLoginReportArgs): Promise<StaffLoginReport> {
  const operator = ctx.policy.assert('report.staffLogin');
  const first = args.first ?? 100;
  if (!Number.isInteger(first) || first < 1 || first > MAX_ATTEMPTS) throw badInput('first', `first must be between 1 and ${MAX_ATTEMPTS}`);
  if (args.from.getTime() > args.to.getTime()) throw badInput('to', '`to` must not be before `from`');
  const db = ctx.db.manager;
  const channel = args.channel ?? 'LOGIN';
  const period = { institutionId: operator.institutionId, channel, from: args.from, to: args.to };
  const [rows, counts, staffWithoutLoginSince] = await Promise.all([
    findLoginAttempts(db, period, first),
    countLoginAttempts(db, period),
    args.noLoginSince ? findStaffWithoutLoginSince(db, operator.institutionId, STAFF_ROLE_TYPES, args.noLoginSince) : Promise.resolve([]),
  ]);
  for (const user of staffWithoutLoginSince) ctx.loaders.userById.prime(user.id, user);
  // One batched statement for the users behind every listed attempt.
  const users = await Promise.all(rows.map((row) => (row.userId ? ctx.loaders.userById.load(row.userId) : null)));
  return {
    from: args.from,
    to: args.to,
    channel,
    successfulCount: counts.succeeded,
    failedCount: counts.failed,
    attempts: rows.map((row, i) => ({ at: row.attemptedAt, identifier: row.identifier, succeeded: row.succeeded, reason: row.reason, requestedBy: row.requestedBy, user: users[i] })),
    staffWithoutLoginSince,
  };
}
