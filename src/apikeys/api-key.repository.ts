import { queryPrepared } from '../db/prepared';
import type { EntityManager } from 'typeorm';
import { ApiKey } from '../db/entities';
import type { OperatorRole } from '../policy/operator';
import { returningRows } from '../db/returning';
import { operatorRolesJsonSql, roleInForceSql } from '../policy/roles-in-force.sql';
import { lockRow } from '../db/lock-row';

/** The institution's API keys, newest first. */
export function findApiKeys(db: EntityManager, institutionId: string): Promise<ApiKey[]> {
  return db.getRepository(ApiKey).createQueryBuilder('k')
    .where('k.institution_id = :institutionId', { institutionId })
    .orderBy('k.created_at', 'DESC')
    .addOrderBy('k.id', 'DESC')
    .getMany();
}

/** One API key of the institution, locked for the rest of the transaction. */
export function findApiKeyForUpdate(tx: EntityManager, institutionId: string, id: string): Promise<ApiKey | null> {
  return lockRow(tx, ApiKey, institutionId, id);
}

export function findApiKeyByName(db: EntityManager, institutionId: string, name: string): Promise<ApiKey | null> {
  return db.getRepository(ApiKey).findOneBy({ institutionId, name });
}

export function insertApiKey(
  tx: EntityManager,
  key: Pick<ApiKey, 'institutionId' | 'name' | 'keyPrefix' | 'secretHash' | 'createdBy' | 'expiresAt'>,
): Promise<ApiKey> {
  const repo = tx.getRepository(ApiKey);
  return repo.save(repo.create(key));
}

/** Sets `revoked_at` to the transaction's time and returns the key as stored. */
export async function markRevoked(tx: EntityManager, key: ApiKey): Promise<ApiKey> {
  const [row] = await returningRows<{ revokedAt: Date }>(tx, `UPDATE api_key SET revoked_at = now() WHERE id = $1 RETURNING revoked_at AS "revokedAt"`, [key.id]);
  return Object.assign(key, { revokedAt: row.revokedAt as Date });
}

/** What authentication needs to know about an API key, read in one statement. */
export interface ApiKeyOperatorRow {
  id: string;
  name: string;
  secretHash: string;
  revoked: boolean;
  expired: boolean;
  /** True when `last_used_at` is unset or more than a minute old. */
  touchDue: boolean;
  institutionId: string;
  institutionCode: string;
  libraryIndependence: boolean;
  debtLimit: string;
  /** Roles in force: active, scoped and not past their expiry date (the same conditions as a user's). */
  roles: OperatorRole[];
}

export async function findApiKeyOperatorRow(db: EntityManager, keyPrefix: string): Promise<ApiKeyOperatorRow | undefined> {
  const rows = await queryPrepared<ApiKeyOperatorRow>(db, 
    `SELECT k.id, k.name, k.secret_hash AS "secretHash",
            (k.revoked_at IS NOT NULL) AS revoked,
            (k.expires_at IS NOT NULL AND k.expires_at <= now()) AS expired,
            (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute') AS "touchDue",
            i.id AS "institutionId", i.code AS "institutionCode", i.library_independence AS "libraryIndependence",
            i.debt_limit::text AS "debtLimit",
            ${operatorRolesJsonSql('r')} AS roles
       FROM api_key k
       JOIN institution i ON i.id = k.institution_id
       LEFT JOIN role_assignment r ON r.api_key_id = k.id AND r.institution_id = k.institution_id AND ${roleInForceSql('r')}
      WHERE k.key_prefix = $1
      GROUP BY k.id, i.id`,
    [keyPrefix],
  );
  return rows[0];
}

/** Records a use of the key, at most once a minute: concurrent requests in the same minute write once. */
export async function touchLastUsed(db: EntityManager, id: string): Promise<void> {
  await db.query(
    `UPDATE api_key SET last_used_at = now()
      WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
    [id],
  );
}
