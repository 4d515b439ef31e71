import type { Client } from 'pg';
import { DeltaTable, foldDeltas, FoldState, scheduleDeltaFold } from '../db/delta-fold';
import type { DataSource, EntityManager } from 'typeorm';
import type { AccountType, RecordType, UsersFilter, UserStatusFilter } from '../generated/graphql';
import { queryPrepared } from '../db/prepared';
import { searchWords } from './user-search.validation';

/**
 * Exact user counts from the counters the database keeps (migration
 * 1764835200000-UserCounts, issue 12): a sum over a few rows per institution
 * instead of a count over every matching user.
 */

/** The filters of the users list that the counters can answer: unset ones match every user. */
export interface CoarseCountFilter {
  recordType?: RecordType;
  accountType?: AccountType;
  status?: UserStatusFilter;
}

const isNull = (value: unknown) => value == null;

/**
 * When each of the list's other filters leaves the users unfiltered. Typed over UsersFilter's keys, so a filter added
 * to it does not compile until it is listed here; one that reaches this code unlisted counts as set unless null, and
 * sends the count back to the scan, which knows it.
 */
const unfiltering: Record<Exclude<keyof UsersFilter, keyof CoarseCountFilter>, (value: unknown) => boolean> = {
  // applyFilter adds one condition per word of the name, so a name of spaces alone filters nothing.
  name: (value) => searchWords(value as string | null | undefined).length === 0,
  userGroup: isNull,
  jobCategory: isNull,
  campus: isNull,
  email: isNull,
  identifier: isNull,
  roleType: isNull,
  hasActiveBlock: isNull,
  statisticCategory: isNull,
  statisticCategoryType: isNull,
  expiringBefore: isNull,
};

/** The filter's coarse part when it has nothing else, else null (the count needs the users themselves). */
export function coarseCountFilter(filter: UsersFilter): CoarseCountFilter | null {
  const coarse: CoarseCountFilter = {};
  for (const [key, value] of Object.entries(filter) as [keyof UsersFilter, unknown][]) {
    if (key === 'recordType' || key === 'accountType' || key === 'status') {
      if (value != null) Object.assign(coarse, { [key]: value });
    } else if (!(Object.hasOwn(unfiltering, key) ? unfiltering[key as keyof typeof unfiltering] : isNull)(value)) {
      return null;
    }
  }
  return coarse;
}

// The condition of applyFilter's status filter (src/users/user.repository.ts), over the counters' columns. It reads
// current_date when the count is read, so a user expiring today left ACTIVE_NOT_EXPIRED today without any write.
const ACTIVE_NOT_EXPIRED = `(status = 'ACTIVE' AND (expiry_date IS NULL OR expiry_date > current_date))`;

/**
 * How many users (not purged) of the institution match the coarse filter: exactly what the list's count(*) gives,
 * in the same snapshot, since every write to app_user adds its deltas in its own transaction.
 */
export async function countUsersFromCounters(db: EntityManager, institutionId: string, coarse: CoarseCountFilter): Promise<number> {
  const values: unknown[] = [institutionId];
  const conditions = ['institution_id = $1'];
  if (coarse.recordType) conditions.push(`record_type = $${values.push(coarse.recordType)}`);
  if (coarse.accountType) conditions.push(`account_type = $${values.push(coarse.accountType)}`);
  if (coarse.status) conditions.push(coarse.status === 'ACTIVE_NOT_EXPIRED' ? ACTIVE_NOT_EXPIRED : `NOT ${ACTIVE_NOT_EXPIRED}`);
  // Twelve texts at most (record type, account type, three statuses), each prepared once per connection.
  const [row] = await queryPrepared<{ count: number }>(db,
    `SELECT coalesce(sum(n), 0)::int AS count FROM user_count_delta WHERE ${conditions.join(' AND ')}`, values);
  return row.count;
}

/**
 * Expiry dates before this day are folded into one '-infinity' date, which counts as expired on every day to come.
 * Not the compacting session's current_date: readers' current_date follows their session's time zone, and a reader
 * at UTC-12 can still be on the day before UTC's. Any session within a day of UTC is after every folded date.
 */
const FOLD_BEFORE = `((now() AT TIME ZONE 'UTC')::date - 1)`;

/**
 * Folds the counters into one row per key, dropping keys that sum to zero and merging the expiry dates already past
 * (only future expiry dates, and NULL, "never expires", stay apart), so the table stays about as small as its keys.
 * Returns how many rows it folded and how many it wrote.
 *
 * One statement, so one snapshot and one transaction: it deletes exactly the rows its snapshot sees and re-inserts
 * their sums, and a reader's snapshot sees either both or neither, so every sum is unchanged at every moment.
 * - Concurrent writers only insert rows (nothing locks, updates or deletes a counter but this): rows they have not
 *   committed when the statement starts are invisible to it and stay as they are, for the next compaction.
 * - A concurrent compaction: both see the same rows; the second to reach a row waits for the first to commit, then
 *   finds it deleted and skips it (READ COMMITTED re-checks a row it waited for), so each row is folded by exactly
 *   one of them, whose sum includes it. Each inserts only sums of rows it deleted. If the two reached rows in
 *   opposite orders, PostgreSQL ends one with a deadlock error and rolls it back: nothing changes, the next run
 *   folds them.
 */
export async function compactUserCounts(db: { query(text: string, params?: unknown[]): Promise<any> }): Promise<{ folded: number; kept: number }> {
  const [row] = await db.query(`
    WITH gone AS (
      DELETE FROM user_count_delta
      RETURNING institution_id, record_type, account_type, status, expiry_date, n
    ), kept AS (
      INSERT INTO user_count_delta (institution_id, record_type, account_type, status, expiry_date, n)
      SELECT institution_id, record_type, account_type, status,
             CASE WHEN expiry_date < ${FOLD_BEFORE} THEN '-infinity'::date ELSE expiry_date END, sum(n)
      FROM gone
      GROUP BY 1, 2, 3, 4, 5
      HAVING sum(n) <> 0
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone)::int AS folded, (SELECT count(*) FROM kept)::int AS kept`);
  return row;
}

const USER_COUNTS: DeltaTable = { table: 'user_count_delta', compact: compactUserCounts };

/** Folds the user counters (compactUserCounts), then rewrites their table after a bulk fold (db/delta-fold.ts). */
export function foldUserCounts(client: Client, state?: FoldState): Promise<{ folded: number; kept: number }> {
  return foldDeltas(client, USER_COUNTS, state);
}

/** Compacts the user counters every `everyMs` while the server runs; returns the stop function. */
export function scheduleUserCountCompaction(db: DataSource, everyMs: number, log: (line: string) => void): () => void {
  return scheduleDeltaFold(db, USER_COUNTS, 'user count', everyMs, log);
}
