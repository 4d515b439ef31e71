import crypto from 'node:crypto';
import os from 'node:os';
import type { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { openOwnConnection } from './own-connection';

/**
 * Leases on named jobs (the job_lease table, 1765267200000-JobLeases): with several instances on one database,
 * exactly one runs a job at a time. A row rather than a session advisory lock: an operator sees who holds what and
 * since when (`SELECT * FROM job_lease`), a lease survives a connection blip of its holder, and a crashed holder's
 * lease lapses by the database clock alone (no instance's clock is compared with another's).
 */

/**
 * How long a lease lasts unless renewed. A live holder renews it every third of this, so only a holder that died or
 * froze loses it: another instance may take the job over this long after it stopped renewing.
 */
export const JOB_LEASE_MS = 60_000;

export interface LeaseHolder {
  /** host:pid:random of the process that holds it. */
  owner: string;
  takenAt: Date;
  leaseUntil: Date;
}

/** What withLease did: ran the work, or left it to the holder named (null: it ended meanwhile). */
export type Leased<T> = { ran: true; result: T } | { ran: false; holder: LeaseHolder | null };

/**
 * Runs `work` if this process can take the lease `name`, holding it (renewed every ttlMs / 3) until the work ends,
 * then gives it back. Someone else holding it: the work is not run. The lease statements run on a connection of their
 * own, so a renewal never waits behind the work's statements; `work` receives a signal aborted when the lease is lost
 * (a renewal found another owner, or failed), to stop between steps.
 */
export async function withLease<T>(db: DataSource, name: string, ttlMs: number, work: (lost: AbortSignal) => Promise<T>): Promise<Leased<T>> {
  const client = await openOwnConnection(db, 'carrel-lease');
  try {
    // A new owner per run: two runs in one process are two holders, and a run that lost its lease cannot renew the next one's.
    const owner = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
    if (!(await take(client, name, owner, ttlMs))) return { ran: false, holder: await holderOf(client, name) };
    const lost = new AbortController();
    const renewal = setInterval(() => {
      renew(client, name, owner, ttlMs).then(
        (held) => held || lost.abort(new Error(`the lease of job ${name} was lost: another instance took it over`)),
        (e) => lost.abort(e),
      );
    }, ttlMs / 3);
    renewal.unref();
    try {
      return { ran: true, result: await work(lost.signal) };
    } finally {
      clearInterval(renewal);
      // Failing (the connection is gone), the lease lapses by itself after ttlMs.
      await release(client, name, owner).catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * One statement: a missing lease is inserted, a lapsed or released one taken over. Concurrent takers serialise on the
 * row (ON CONFLICT locks it and checks the WHERE against its latest version), so one of them gets it.
 */
async function take(client: Client, name: string, owner: string, ttlMs: number): Promise<boolean> {
  const { rowCount } = await client.query(
    `INSERT INTO job_lease (name, owner, taken_at, lease_until) VALUES ($1, $2, now(), now() + $3 * interval '1 millisecond')
     ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, taken_at = EXCLUDED.taken_at, lease_until = EXCLUDED.lease_until
      WHERE job_lease.lease_until <= now()
     RETURNING name`,
    [name, owner, ttlMs],
  );
  return rowCount === 1;
}

async function renew(client: Client, name: string, owner: string, ttlMs: number): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE job_lease SET lease_until = now() + $3 * interval '1 millisecond' WHERE name = $1 AND owner = $2`, [name, owner, ttlMs]);
  return rowCount === 1;
}

/** Ends the lease now; the row stays, showing who ran the job last and when it ended. */
async function release(client: Client, name: string, owner: string): Promise<void> {
  await client.query(`UPDATE job_lease SET lease_until = now() WHERE name = $1 AND owner = $2`, [name, owner]);
}

async function holderOf(client: Client, name: string): Promise<LeaseHolder | null> {
  const { rows } = await client.query(
    `SELECT owner, taken_at AS "takenAt", lease_until AS "leaseUntil" FROM job_lease WHERE name = $1 AND lease_until > now()`, [name]);
  return rows[0] ?? null;
}
