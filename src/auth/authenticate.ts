import type { EntityManager } from 'typeorm';
import type { Operator } from '../policy/operator';
import { staffSessionRefusal } from '../policy/staff-session';
import { authenticateApiKey } from './api-key-auth';
import { findOperatorRow, OperatorRow } from './operator.repository';
import type { Credentials } from '../context';
import { sessionsEpoch } from './sessions.repository';
import type { TokenIssuer } from './tokens';

/**
 * Who the credentials name, and until when a token is good for; or why not. `forbidden`: the credentials are
 * genuine but their user may not act now (inactive, no staff role ...), which long-lived connections report apart
 * from credentials that are missing, invalid or expired.
 */
export type Authentication = { operator: Operator; expiresAt?: Date } | { operator: null; failure?: string; forbidden?: boolean };

export function toOperator(row: OperatorRow): Operator {
  return {
    kind: 'USER',
    id: row.id,
    label: row.primaryIdentifier ?? row.id,
    institutionId: row.institutionId,
    institutionCode: row.institutionCode,
    libraryIndependence: row.libraryIndependence,
    debtLimit: row.debtLimit,
    roles: row.roles,
    cannotEditRestricted: row.cannotEditRestricted,
    passwordChangeRequired: row.forcePasswordChange,
  };
}

/**
 * Resolves the credentials on every request: a staff bearer token, or a
 * partner system's API key (R11.2) as `X-API-Key: <secret>` or
 * `Authorization: ApiKey <secret>`. The user or key is re-read each time, so
 * deactivation, losing every staff role, a password change, endSessions or
 * revoking a key takes effect at the next request; the first four end the
 * token for good (sessions.repository.ts), even if the user gets back in.
 */
export async function authenticate(db: EntityManager, tokens: TokenIssuer, credentials: Credentials): Promise<Authentication> {
  const header = credentials.authorization;
  const apiKey = credentials.apiKey?.trim();
  if (apiKey && header) return { operator: null, failure: 'Send one credential: either X-API-Key or Authorization, not both' };
  if (apiKey) return authenticateApiKey(db, apiKey);
  if (!header) return { operator: null };
  const key = /^ApiKey\s+(\S+)$/i.exec(header);
  if (key) return authenticateApiKey(db, key[1]);
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) return { operator: null, failure: 'Authorization header must be "Bearer <token>" or "ApiKey <secret>"' };
  const claims = tokens.verify(match[1]);
  if (!claims) return { operator: null, failure: 'The token is invalid or expired: log in again' };
  const row = await findOperatorRow(db, claims.sub);
  if (!row) return { operator: null, failure: 'The token is no longer valid: log in again' };
  // Why the user may not act now first (inactive, no staff role ...); then whether this token outlived its session.
  const refusal = staffSessionRefusal(row);
  if (refusal) return { operator: null, failure: `${refusal}: the token is no longer accepted`, forbidden: true };
  if (sessionsEpoch(row.sessionsValidAfter) !== claims.sva) {
    return { operator: null, failure: "The account's sessions were ended after this token was issued (password change, deactivation, loss of staff roles or endSessions): log in again" };
  }
  return { operator: toOperator(row), expiresAt: claims.exp === null ? undefined : new Date(claims.exp * 1000) };
}
