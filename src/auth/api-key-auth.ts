import type { EntityManager } from 'typeorm';
import { prefixOf, secretMatches } from '../apikeys/api-key.secret';
import { findApiKeyOperatorRow, touchLastUsed } from '../apikeys/api-key.repository';
import type { Operator } from '../policy/operator';
import type { Authentication } from './authenticate';

const INVALID = 'The API key is not valid';

/**
 * R11.2: a partner system's API key becomes an operator with the key's own
 * roles, subject to the same policy as a staff user. The key is re-read on
 * every request, so revoking it, its expiry or a change of its roles applies
 * at the next request.
 */
export async function authenticateApiKey(db: EntityManager, secret: string): Promise<Authentication> {
  const prefix = prefixOf(secret);
  if (!prefix) return { operator: null, failure: INVALID };
  const row = await findApiKeyOperatorRow(db, prefix);
  // An unknown prefix and a wrong secret get the same answer.
  if (!row || !secretMatches(secret, row.secretHash)) return { operator: null, failure: INVALID };
  if (row.revoked) return { operator: null, failure: 'The API key has been revoked' };
  if (row.expired) return { operator: null, failure: 'The API key has expired' };
  if (row.touchDue) await touchLastUsed(db, row.id);
  const operator: Operator = {
    kind: 'API_KEY',
    id: row.id,
    label: `api-key:${row.name}`,
    institutionId: row.institutionId,
    institutionCode: row.institutionCode,
    libraryIndependence: row.libraryIndependence,
    debtLimit: row.debtLimit,
    roles: row.roles,
    cannotEditRestricted: false,
    passwordChangeRequired: false,
  };
  return { operator };
}
