import type { EntityManager } from 'typeorm';
import { returningRows } from '../db/returning';

export async function findPasswordHash(tx: EntityManager, userId: string): Promise<{ hash: string | null; primaryIdentifier: string | null; accountType: string } | undefined> {
  const [row] = await tx.query(
    `SELECT password_hash AS hash, primary_identifier AS "primaryIdentifier", account_type AS "accountType" FROM app_user WHERE id = $1 FOR UPDATE`,
    [userId],
  );
  return row;
}

/** Stores a new hash; the new password_changed_at revokes every token issued before. */
export async function storePassword(tx: EntityManager, userId: string, hash: string, changedBy: string): Promise<Date> {
  const [row] = await returningRows<{ changedAt: Date }>(tx,
    `UPDATE app_user SET password_hash = $2, password_changed_at = clock_timestamp(), force_password_change = false,
            updated_by = $3, updated_at = now()
      WHERE id = $1 RETURNING password_changed_at AS "changedAt"`,
    [userId, hash, changedBy],
  );
  return row.changedAt;
}
