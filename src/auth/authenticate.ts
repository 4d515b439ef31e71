import type { EntityManager } from 'typeorm';
import type { Operator } from '../policy/operator';
import { roleTypeInfo } from '../roles/role-types';
import { findOperatorRow, OperatorRow } from './operator.repository';
import type { Credentials } from '../context';
import type { TokenIssuer } from './tokens';

export type Authentication = { operator: Operator } | { operator: null; failure?: string };

/** Whether a user may act as a staff operator right now: active, not expired, holding a staff role. */
export function staffRefusal(row: OperatorRow): string | null {
  if (row.recordType === 'CONTACT') return 'Contact records cannot log in';
  if (!row.active) return 'The account is inactive or expired';
  if (!row.roles.some((r) => roleTypeInfo(r.roleType)?.staff)) return 'The account holds no staff role';
  return null;
}

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
 * Resolves the Authorization header on every request. The user is re-read
 * each time, so deactivation, losing every staff role or a password change
 * revokes a token at the next request.
 */
export async function authenticate(db: EntityManager, tokens: TokenIssuer, credentials: Credentials): Promise<Authentication> {
  const header = credentials.authorization;
  if (!header) return { operator: null };
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) return { operator: null, failure: 'Authorization header must be "Bearer <token>"' };
  const claims = tokens.verify(match[1]);
  if (!claims) return { operator: null, failure: 'The token is invalid or expired: log in again' };
  const row = await findOperatorRow(db, claims.sub);
  if (!row) return { operator: null, failure: 'The token is no longer valid: log in again' };
  if ((row.passwordChangedAt?.getTime() ?? 0) !== claims.pwd) return { operator: null, failure: 'The password changed since this token was issued: log in again' };
  const refusal = staffRefusal(row);
  if (refusal) return { operator: null, failure: `${refusal}: the token is no longer accepted` };
  return { operator: toOperator(row) };
}
