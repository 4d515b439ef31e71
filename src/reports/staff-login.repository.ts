import type { EntityManager } from 'typeorm';
import { User } from '../db/entities';
import { notProtectedAccountSql } from '../policy/protected-accounts.sql';
import { roleInForceSql } from '../policy/roles-in-force.sql';

/** Login attempts of one institution in a period, both ends included. */
export interface LoginPeriod {
  institutionId: string;
  /** Staff logins (LOGIN) or partners' checks of users' passwords (PARTNER, authenticateUser). */
  channel: 'LOGIN' | 'PARTNER';
  from: Date;
  to: Date;
}

export interface LoginAttemptRow {
  attemptedAt: Date;
  identifier: string;
  succeeded: boolean;
  reason: string | null;
  userId: string | null;
  requestedBy: string | null;
}

/**
 * The newest `first` attempts of the period on one channel (login_attempt_time_idx).
 * Staff logins whose identifier matched no user carry no institution and are
 * never listed; partners' checks of users' passwords (channel PARTNER) are not
 * staff logins, and are listed only when asked for.
 */
export async function findLoginAttempts(db: EntityManager, period: LoginPeriod, first: number): Promise<LoginAttemptRow[]> {
  return db.query(
    `SELECT a.attempted_at AS "attemptedAt", a.identifier, a.succeeded, a.reason, a.user_id AS "userId", a.requested_by AS "requestedBy"
       FROM login_attempt a
      WHERE a.institution_id = $1 AND a.channel = $2 AND a.attempted_at >= $3 AND a.attempted_at <= $4
      ORDER BY a.attempted_at DESC, a.id DESC
      LIMIT $5`,
    [period.institutionId, period.channel, period.from, period.to, first],
  );
}

/** How many attempts of the whole period on the channel succeeded and failed, in one pass over login_attempt_time_idx. */
export async function countLoginAttempts(db: EntityManager, period: LoginPeriod): Promise<{ succeeded: number; failed: number }> {
  const [row] = await db.query(
    `SELECT count(*) FILTER (WHERE a.succeeded)::int AS succeeded, count(*) FILTER (WHERE NOT a.succeeded)::int AS failed
       FROM login_attempt a
      WHERE a.institution_id = $1 AND a.channel = $2 AND a.attempted_at >= $3 AND a.attempted_at <= $4`,
    [period.institutionId, period.channel, period.from, period.to],
  );
  return row;
}

/**
 * R11.1 in one statement: ACTIVE users of the institution holding a staff
 * role in force (one of `staffRoleTypes`), protected accounts (R4.5) left
 * out, with no successful login at or after `since` (a partner's check of its
 * password is no login). The NOT EXISTS is served by login_attempt_user_idx
 * (user_id, attempted_at DESC).
 */
export async function findStaffWithoutLoginSince(
  db: EntityManager,
  institutionId: string,
  staffRoleTypes: readonly string[],
  since: Date,
): Promise<User[]> {
  return db.getRepository(User).createQueryBuilder('u')
    .where('u.institution_id = :institutionId', { institutionId })
    .andWhere(`u.status = 'ACTIVE'`)
    .andWhere(notProtectedAccountSql('u.primary_identifier'))
    .andWhere(`EXISTS (SELECT 1 FROM role_assignment r
                        WHERE r.user_id = u.id AND r.institution_id = :institutionId
                          AND r.role_type = ANY(:staffRoleTypes::text[]) AND ${roleInForceSql('r')})`, { staffRoleTypes })
    .andWhere(`NOT EXISTS (SELECT 1 FROM login_attempt a
                            WHERE a.user_id = u.id AND a.succeeded AND a.channel = 'LOGIN' AND a.attempted_at >= :since)`, { since })
    .orderBy('u.sort_name', 'ASC')
    .addOrderBy('u.id', 'ASC')
    .getMany();
}
