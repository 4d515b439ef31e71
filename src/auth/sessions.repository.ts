import type { EntityManager } from 'typeorm';
import { returningRows } from '../db/returning';
import { roleInForceSql } from '../policy/roles-in-force.sql';
import { ROLE_TYPES } from '../roles/role-types';

/**
 * Sessions (issue 9 finding 10). app_user.sessions_valid_after is the one
 * thing that ends a user's sessions: every token carries the value it had
 * when the token was signed (claim `sva`, epoch ms) and is accepted only
 * while the column still has it. Moving it ends every session at once, for
 * good: reactivating the user, giving a role back or restoring a password
 * never brings an old token back. It moves on a password change or removal,
 * deactivation, the loss of the last staff role and endSessions.
 *
 * Tokens carry milliseconds and the column microseconds, so the new value is
 * truncated to the millisecond and always at least a millisecond past the
 * old one: two bumps within one millisecond still differ.
 */
const NEXT_VALUE = `date_trunc('milliseconds', greatest(clock_timestamp(), coalesce(sessions_valid_after, '-infinity') + interval '1 millisecond'))`;

const STAFF_ROLE_TYPES = ROLE_TYPES.filter((r) => r.staff).map((r) => r.code);

/** The value a token carries for `sessionsValidAfter` (0 while sessions were never ended). */
export const sessionsEpoch = (sessionsValidAfter: Date | null): number => sessionsValidAfter?.getTime() ?? 0;

/** Ends every session of the user, in the caller's transaction; returns the epoch a new token must carry. */
export async function endSessions(tx: EntityManager, userId: string): Promise<number> {
  const [row] = await returningRows<{ sessionsValidAfter: Date }>(tx,
    `UPDATE app_user SET sessions_valid_after = ${NEXT_VALUE} WHERE id = $1 RETURNING sessions_valid_after AS "sessionsValidAfter"`,
    [userId],
  );
  return sessionsEpoch(row?.sessionsValidAfter ?? null);
}

/**
 * Ends the sessions of every user who can hold one, in every institution (`npm run carrel -- rotate-token-secret`); returns
 * how many. Only a password check signs a token (login, changePassword) and removing a password ends the sessions
 * already, so users without a password hold no token still accepted.
 */
export async function endEverySession(tx: EntityManager): Promise<number> {
  // An UPDATE answers [rows, row count]: the count, without sending every id back.
  const [, count] = (await tx.query(`UPDATE app_user SET sessions_valid_after = ${NEXT_VALUE} WHERE password_hash IS NOT NULL AND purged_at IS NULL`)) as [unknown[], number];
  return count;
}

/** Ends the user's sessions when, after a change of its roles, it holds no staff role in force any more. */
export async function endSessionsWithoutStaffRole(tx: EntityManager, userId: string): Promise<void> {
  await tx.query(
    `UPDATE app_user u SET sessions_valid_after = ${NEXT_VALUE}
      WHERE u.id = $1
        AND NOT EXISTS (SELECT 1 FROM role_assignment r
                         WHERE r.user_id = u.id AND r.role_type = ANY($2::text[]) AND ${roleInForceSql('r')})`,
    [userId, STAFF_ROLE_TYPES],
  );
}
