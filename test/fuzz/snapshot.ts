import type { DataSource } from 'typeorm';

/**
 * A fingerprint of every domain table: its row count and an order-free hash
 * of its rows, in one statement. Taken before and after a request, it shows
 * whether a refused request changed anything, anywhere (history and the
 * event outbox included: a refusal must not leave an entry or an event).
 *
 * Left out, because a refused request writes them on purpose: the login
 * report's attempts and the login throttle's counters, and an API key's
 * last-used time (touched by any request that key makes).
 */
// user_count_delta is derived from app_user by triggers (which the snapshot covers), and the server's compaction
// rewrites it at any moment without changing a count (src/users/user-counts.repository.ts).
const NOT_DOMAIN_TABLES = new Set(['migrations', 'typeorm_metadata', 'login_attempt', 'login_throttle', 'user_count_delta', 'job_lease']);
const VOLATILE_COLUMNS: Record<string, string[]> = { api_key: ['last_used_at'] };

export type Snapshot = Record<string, string>;

export class Snapshotter {
  private sql: string | null = null;

  constructor(private readonly db: DataSource) {}

  private async statement(): Promise<string> {
    if (this.sql) return this.sql;
    const tables: { table_name: string }[] = await this.db.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    this.sql = tables
      .map((t) => t.table_name)
      .filter((name) => !NOT_DOMAIN_TABLES.has(name))
      .map((name) => {
        const row = `(to_jsonb(t) - ARRAY[${(VOLATILE_COLUMNS[name] ?? []).map((c) => `'${c}'`).join(',')}]::text[])::text`;
        return `SELECT '${name}' AS name, count(*) || ':' || coalesce(md5(string_agg(md5(${row}), '' ORDER BY md5(${row}))), '') AS hash FROM ${name} t`;
      })
      .join('\nUNION ALL\n');
    return this.sql;
  }

  async take(): Promise<Snapshot> {
    const rows: { name: string; hash: string }[] = await this.db.query(await this.statement());
    return Object.fromEntries(rows.map((r) => [r.name, r.hash]));
  }
}

/** The tables whose fingerprint differs. */
export function changedTables(before: Snapshot, after: Snapshot): string[] {
  return Object.keys(before).filter((name) => before[name] !== after[name]);
}
