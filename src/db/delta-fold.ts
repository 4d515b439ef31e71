import type { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { scheduleJob } from '../common/schedule-job';
import { JOB_LEASE_MS, withLease } from './job-lease';
import { openOwnConnection, statementsOn } from './own-connection';

/**
 * Counters kept as appended deltas (user_count_delta, fine_total_delta): writers only insert rows, so they never wait
 * on one another, and a job folds the rows into one per key now and then. This is the job's part common to both.
 */
export interface DeltaTable {
  /** The table, for its rewrite. */
  table: string;
  /** Folds the rows in one statement (each table's own SQL); returns how many rows it folded and how many it wrote. */
  compact(db: { query(text: string, params?: unknown[]): Promise<any> }): Promise<{ folded: number; kept: number }>;
}

/** What one fold leaves for the next: a rewrite that gave up on its lock wait is due again. */
export interface FoldState {
  rewriteDue: boolean;
}

/**
 * Folds the deltas on a connection of its own, then, after a bulk fold, rewrites the table.
 *
 * A bulk load leaves one delta row per key and statement (a million users: about 700,000 rows), and folding them
 * leaves the table and its index at that size, mostly empty: VACUUM makes the space reusable but shrinks neither, and
 * summing the counters read every page (17 ms at a million users, with either plan). VACUUM FULL rewrites the few
 * thousand rows left in milliseconds, but needs the table to itself, so writers wait for it: it gives up after a lock
 * wait of 2 s rather than queue them behind it longer, and `state` makes the next fold try again. The wait is longer
 * than PostgreSQL's deadlock_timeout (1 s) because autovacuum, which a bulk load sets off on the table, yields its
 * lock only once a waiter has waited that long (a 500 ms wait gave up every time it met autovacuum). The rewrite is
 * not repeated otherwise: rows another session's snapshot may still see survive a rewrite, and rewriting again each
 * minute would only make writers wait.
 */
export async function foldDeltas(client: Client, deltas: DeltaTable, state: FoldState = { rewriteDue: false }): Promise<{ folded: number; kept: number }> {
  const result = await deltas.compact(statementsOn(client));
  if (state.rewriteDue || (result.folded >= 10_000 && result.folded > 2 * result.kept)) {
    state.rewriteDue = !(await rewrite(client, deltas.table));
  }
  return result;
}

/** VACUUM FULL and ANALYZE of the table; false when it gave up waiting for the table. */
async function rewrite(client: Client, table: string): Promise<boolean> {
  await client.query(`SET lock_timeout = '2s'`);
  try {
    await client.query(`VACUUM FULL ${table}`);
  } catch (e) {
    if ((e as { code?: string }).code !== '55P03') throw e;
    return false;
  } finally {
    await client.query('RESET lock_timeout');
  }
  await client.query(`ANALYZE ${table}`);
  return true;
}

/**
 * Folds the deltas every `everyMs` while the server runs; returns the stop function. With several instances, the one
 * holding the table's lease folds (src/db/job-lease.ts): each table's compact is safe against a concurrent one, but
 * two would only make each other wait, and two rewrites queue writers twice. A rewrite left due by one instance is
 * tried again by the next fold of that instance (`state` is its own).
 */
export function scheduleDeltaFold(db: DataSource, deltas: DeltaTable, what: string, everyMs: number, log: (line: string) => void): () => void {
  const state: FoldState = { rewriteDue: false };
  return scheduleJob(`compacting ${what}`, everyMs, async () => {
    await withLease(db, `fold:${deltas.table}`, JOB_LEASE_MS, async () => {
      // A connection of its own, as event pruning: the job never takes one of the requests' pool, and its statements
      // are not counted as theirs (a test or a benchmark counting a request's statements saw a compaction among them).
      const client = await openOwnConnection(db, `carrel-${what.replace(/ /g, '-')}`);
      try {
        const { folded, kept } = await foldDeltas(client, deltas, state);
        if (folded > kept) log(`compacted ${folded} ${what} rows into ${kept}`);
      } finally {
        await client.end();
      }
    });
  }, log);
}
