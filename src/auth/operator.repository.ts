import { queryPrepared } from '../db/prepared';
import type { EntityManager } from 'typeorm';
import type { RecordType } from '../db/entities';
import type { OperatorRole } from '../policy/operator';
import { usersWithIdentifierSql } from '../users/user.repository';
import { operatorRolesJsonSql, roleInForceSql } from '../policy/roles-in-force.sql';

/** What authentication needs to know about a user, read in one statement. */
export interface OperatorRow {
  id: string;
  primaryIdentifier: string | null;
  recordType: string;
  active: boolean;
  /** Tokens signed before the last time this moved are refused (sessions.repository.ts). */
  sessionsValidAfter: Date | null;
  forcePasswordChange: boolean;
  cannotEditRestricted: boolean;
  institutionId: string;
  institutionCode: string;
  libraryIndependence: boolean;
  debtLimit: string;
  /** Roles in force: active, scoped and not past their expiry date. */
  roles: OperatorRole[];
}

export async function findOperatorRow(db: EntityManager, userId: string): Promise<OperatorRow | undefined> {
  const rows = await queryPrepared<OperatorRow>(db, 
    `SELECT u.id, u.primary_identifier AS "primaryIdentifier", u.record_type AS "recordType",
            (u.status = 'ACTIVE' AND (u.expiry_date IS NULL OR u.expiry_date > current_date)) AS active,
            u.sessions_valid_after AS "sessionsValidAfter", u.force_password_change AS "forcePasswordChange",
            u.cannot_edit_restricted_users AS "cannotEditRestricted",
            i.id AS "institutionId", i.code AS "institutionCode", i.library_independence AS "libraryIndependence",
            i.debt_limit::text AS "debtLimit",
            ${operatorRolesJsonSql('r')} AS roles
       FROM app_user u
       JOIN institution i ON i.id = u.institution_id
       LEFT JOIN role_assignment r ON r.user_id = u.id AND ${roleInForceSql('r')}
      WHERE u.id = $1
      GROUP BY u.id, i.id`,
    [userId],
  );
  return rows[0];
}

/** A user an identifier names at sign-in, with what deciding on the attempt needs before any password is checked. */
export interface LoginCandidate {
  id: string;
  institutionId: string;
  primaryIdentifier: string | null;
  passwordHash: string | null;
  recordType: RecordType;
  /** ACTIVE and not expired (R1.5). */
  active: boolean;
}

/**
 * Users whose primary identifier (case-insensitive) or an additional identifier (exact) is `identifier`, in any
 * institution. Everything an attempt is decided on comes in this one statement, so a refusal costs the same
 * statements whatever the reason.
 */
export async function findLoginCandidates(db: EntityManager, identifier: string, institutionCode: string | null): Promise<LoginCandidate[]> {
  return db.query(
    // Institution by institution, so each lookup uses the (institution_id, ...) identifier indexes.
    `SELECT u.id, u.institution_id AS "institutionId", u.primary_identifier AS "primaryIdentifier", u.password_hash AS "passwordHash",
            u.record_type AS "recordType", (u.status = 'ACTIVE' AND (u.expiry_date IS NULL OR u.expiry_date > current_date)) AS active
       FROM institution i
       CROSS JOIN LATERAL ${usersWithIdentifierSql('i.id', '$1')} AS m(id)
       JOIN app_user u ON u.id = m.id
      WHERE ($2::text IS NULL OR i.code = $2)`,
    [identifier, institutionCode],
  );
}

/** Longest identifier stored in login_attempt, in characters (code points): the input limit, enforced here too. */
export const MAX_RECORDED_IDENTIFIER = 255;

/** At most MAX_RECORDED_IDENTIFIER characters of `identifier`, never splitting a character. */
export function recordedIdentifier(identifier: string): string {
  if (identifier.length <= MAX_RECORDED_IDENTIFIER) return identifier;
  return Array.from(identifier.slice(0, 2 * MAX_RECORDED_IDENTIFIER)).slice(0, MAX_RECORDED_IDENTIFIER).join('');
}

/**
 * One sign-in attempt. A partner's check of a user's password (authenticateUser) is recorded as channel PARTNER with
 * the operator that asked (`requestedBy`, its label), apart from staff logins (R11.1).
 */
export async function recordLoginAttempt(
  db: EntityManager,
  attempt: {
    institutionId: string | null; userId: string | null; identifier: string; succeeded: boolean; reason: string | null;
    partner?: { requestedBy: string };
  },
): Promise<void> {
  await db.query(
    `INSERT INTO login_attempt (institution_id, user_id, identifier, succeeded, reason, channel, requested_by) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [attempt.institutionId, attempt.userId, recordedIdentifier(attempt.identifier), attempt.succeeded, attempt.reason,
      attempt.partner ? 'PARTNER' : 'LOGIN', attempt.partner?.requestedBy ?? null],
  );
}

/** Every identifier a user signs in with (primary and additional), for lifting its sign-in lockout. */
export async function findSignInIdentifiers(db: EntityManager, userId: string): Promise<string[]> {
  const rows: { value: string }[] = await db.query(
    `SELECT primary_identifier AS value FROM app_user WHERE id = $1 AND primary_identifier IS NOT NULL
     UNION SELECT value FROM user_identifier WHERE user_id = $1`,
    [userId],
  );
  return rows.map((r) => r.value);
}
