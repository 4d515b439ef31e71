import type { DataSource } from 'typeorm';
import type { InstitutionFixture } from './fixtures';

/** Notes, blocks and statistics: rows owned by the institution (null) or a library (R5.1). */
export type OwnerCode = 'MAIN' | 'LAW' | null;

/**
 * An owned item written straight into its table, as the SIS or an earlier
 * edit would have left it; `values` are the kind's own columns.
 */
export async function givenOwnedItem(
  db: DataSource,
  inst: InstitutionFixture,
  table: 'user_note' | 'user_block' | 'user_statistic',
  userId: string,
  owner: OwnerCode,
  values: Record<string, unknown>,
  opts: { external?: boolean } = {},
): Promise<string> {
  const columns = { institution_id: inst.id, user_id: userId, owner_library_id: owner && inst.libraries[owner].id, is_external: opts.external ?? false, ...values };
  const names = Object.keys(columns);
  const [row] = await db.query(
    `INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
    Object.values(columns),
  );
  return row.id;
}

/** Everything a refused request about one user's owned items must leave as it was: the items, its history and its events. */
export async function ownedItemState(db: DataSource, table: string, columns: string, userId: string) {
  return {
    items: await db.query(`SELECT id, ${columns} FROM ${table} WHERE user_id = $1 ORDER BY id`, [userId]),
    history: await db.query(`SELECT count(*)::int AS n FROM history_entry WHERE user_id = $1`, [userId]),
    events: await db.query(`SELECT count(*)::int AS n FROM event_outbox WHERE aggregate_id = $1`, [userId]),
  };
}
