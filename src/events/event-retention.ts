import { scheduleJob } from '../common/schedule-job';
import type { DataSource } from 'typeorm';
import { JOB_LEASE_MS, withLease } from '../db/job-lease';
import { openOwnConnection, statementsOn } from '../db/own-connection';
import { pruneEvents } from './outbox.repository';

/** Events deleted per transaction: short transactions, so pruning never holds back the stream for long. */
export const PRUNE_BATCH = 5000;

/**
 * Deletes the events older than `retentionDays`, oldest first, in batches
 * of PRUNE_BATCH, and returns how many. Safe to run twice at once (each batch
 * locks the retention mark, so they take turns), though the server's job runs
 * it on one instance at a time (schedulePruning).
 */
export async function pruneExpiredEvents(db: DataSource, retentionDays: number, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  // A connection of its own: pruning never takes one of the requests' pool.
  const client = await openOwnConnection(db, 'carrel-prune');
  const sql = statementsOn(client);
  try {
    let total = 0;
    for (;;) {
      const deleted = await pruneEvents(sql, cutoff, PRUNE_BATCH);
      total += deleted;
      if (deleted < PRUNE_BATCH) return total;
    }
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Prunes now and then every `everyMs` while the server runs; returns the stop function. With several instances, the
 * one holding the lease prunes (src/db/job-lease.ts); the others skip that tick.
 */
export function schedulePruning(db: DataSource, retentionDays: number, everyMs: number, log: (line: string) => void): () => void {
  return scheduleJob('pruning events', everyMs, async () => {
    await withLease(db, 'events:prune', JOB_LEASE_MS, async () => {
      const deleted = await pruneExpiredEvents(db, retentionDays);
      if (deleted > 0) log(`pruned ${deleted} events older than ${retentionDays} days`);
    });
  }, log);
}
