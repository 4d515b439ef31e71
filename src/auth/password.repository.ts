import type { EntityManager } from 'typeorm';
import { endSessions } from './sessions.repository';

/** The operator's own password row, locked for the rest of the transaction so concurrent changes queue. */
export async function lockPasswordRow(tx: EntityManager, userId: string): Promise<{ hash: string | null; primaryIdentifier: string | null; accountType: string } | undefined> {
  const [row] = await tx.query(
    `SELECT password_hash AS hash, primary_identifier AS "primaryIdentifier", account_type AS "accountType" FROM app_user WHERE id = $1 FOR UPDATE`,
    [userId],
  );
  return row;
}

/** Stores a new hash and ends every earlier session; returns the sessions epoch the caller's new token carries. */
export async function storePassword(tx: EntityManager, userId: string, hash: string, changedBy: string): Promise<number> {
  await tx.query(
    `UPDATE app_user SET password_hash = $2, password_changed_at = clock_timestamp(), force_password_change = false,
            updated_by = $3, updated_at = now()
      WHERE id = $1`,
    [userId, hash, changedBy],
  );
  return endSessions(tx, userId);
}
