import type { EntityManager } from 'typeorm';
import { WebhookDelivery } from '../db/entities';
import { appendEvents, SqlRunner } from '../events/outbox.repository';
import { audienceCondition, EventAudience } from '../policy/event-audience';
import type { EventFamily, EventType } from '../generated/graphql';
import type { OperatorRole } from '../policy/operator';
import { operatorRolesJsonSql, roleInForceSql } from '../policy/roles-in-force.sql';

/**
 * The delivery worker's reads and writes, on the worker's own connection (`SqlRunner`: statements answer their
 * rows, UPDATE ... RETURNING included). A webhook is delivered by one instance at a time: the instance takes a
 * lease on its row (`lease_owner`, `lease_until`), renews it with every event it delivers, and gives it back when it
 * stops. Every write of the delivery state checks the lease, so an instance that lost it (it stalled past the lease,
 * another took over) stops instead of delivering beside the new holder.
 */

/** Who delivers: the actor of the events the worker writes (a webhook disabled after persistent failure). */
export const DELIVERY_ACTOR = 'carrel:webhook-delivery';

/**
 * Active webhooks that are due (no retry waiting) and that nobody holds, soonest due first: candidates, read without
 * writing, so that an idle instance costs the database no writes.
 */
export async function findDueWebhookIds(db: SqlRunner, limit: number): Promise<string[]> {
  const rows: { id: string }[] = await db.query(
    `SELECT id FROM webhook
      WHERE status = 'ACTIVE' AND (next_attempt_at IS NULL OR next_attempt_at <= now()) AND (lease_until IS NULL OR lease_until < now())
      ORDER BY next_attempt_at NULLS FIRST, id
      LIMIT $1`,
    [limit],
  );
  return rows.map((r) => r.id);
}

/** Takes the lease of a webhook that is still active, due and free; false when another instance was first. */
export async function claimWebhook(db: SqlRunner, id: string, owner: string, leaseMs: number): Promise<boolean> {
  const rows: unknown[] = await db.query(
    `UPDATE webhook SET lease_owner = $2, lease_until = now() + $3 * interval '1 millisecond'
      WHERE id = $1 AND status = 'ACTIVE' AND (next_attempt_at IS NULL OR next_attempt_at <= now()) AND (lease_until IS NULL OR lease_until < now())
      RETURNING id`,
    [id, owner, leaseMs],
  );
  return rows.length === 1;
}

/** When the next retry of an active webhook is due (null: none waits), so the worker can wake for it. */
export async function nextRetryAt(db: SqlRunner): Promise<Date | null> {
  const [row] = await db.query(`SELECT min(next_attempt_at) AS at FROM webhook WHERE status = 'ACTIVE' AND next_attempt_at > now()`);
  return row.at ?? null;
}

/** A webhook as the worker delivers it: where, how signed, from which position, and the facts its operator is made of. */
export interface DeliveryTarget {
  id: string;
  institutionId: string;
  institutionCode: string;
  libraryIndependence: boolean;
  debtLimit: string;
  url: string;
  secret: string;
  eventTypes: EventType[];
  families: EventFamily[];
  cursorXid: string;
  cursorId: string;
  attempts: number;
  /**
   * When an administrator last changed it (URL, secret, roles, filter), as read: the delivery state is written only
   * while it is unchanged, so a page read before a change is not delivered on under the old URL, secret or roles.
   */
  updatedAt: string;
  /** Roles in force (active, scoped, unexpired), as authentication reads an API key's. */
  roles: OperatorRole[];
}

/**
 * The webhook as the worker delivers it, while the instance `owner` holds its lease and it is active and due; null
 * otherwise (deleted, disabled, taken over). Without `owner`: as it stands (what it would receive now).
 */
export async function loadDeliveryTarget(db: SqlRunner, institutionId: string | null, id: string, owner: string | null): Promise<DeliveryTarget | null> {
  const [row] = await db.query(
    `SELECT w.id, w.institution_id AS "institutionId", i.code AS "institutionCode", i.library_independence AS "libraryIndependence",
            i.debt_limit::text AS "debtLimit", w.url, w.secret, w.event_types AS "eventTypes", w.families,
            w.cursor_xid::text AS "cursorXid", w.cursor_id::text AS "cursorId", w.attempts, w.updated_at::text AS "updatedAt",
            ${operatorRolesJsonSql('r')} AS roles
       FROM webhook w
       JOIN institution i ON i.id = w.institution_id
       LEFT JOIN role_assignment r ON r.webhook_id = w.id AND r.institution_id = w.institution_id AND ${roleInForceSql('r')}
      WHERE w.id = $1 AND ($2::uuid IS NULL OR w.institution_id = $2)
        AND ($3::text IS NULL OR (w.lease_owner = $3 AND w.status = 'ACTIVE' AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= now())))
      GROUP BY w.id, i.id`,
    [id, institutionId, owner],
  );
  return row ?? null;
}

/**
 * How many released events after the target's cursor it would receive (its audience and filter, as the worker reads
 * them), counted up to `limit`.
 */
export async function countPending(db: SqlRunner, target: DeliveryTarget, audience: EventAudience, limit: number): Promise<number> {
  const params: unknown[] = [target.cursorXid, target.cursorId, limit];
  const condition = audienceCondition(audience, 'e', params.length + 1);
  params.push(...condition.params);
  const filters = [condition.sql];
  if (target.eventTypes.length) filters.push(`e.event_type = ANY($${params.push(target.eventTypes)}::text[])`);
  if (target.families.length) filters.push(`e.family = ANY($${params.push(target.families)}::text[])`);
  const [row] = await db.query(
    `SELECT count(*)::int AS n FROM (
       SELECT 1 FROM event_outbox e
        WHERE (e.xid, e.id) > ($1::xid8, $2::bigint) AND e.xid < pg_snapshot_xmin(pg_current_snapshot()) AND ${filters.join(' AND ')}
        LIMIT $3) x`,
    params,
  );
  return row.n;
}

/** Gives the lease back (after a failure, when nothing is left to deliver, or on shutdown). */
export async function releaseLease(db: SqlRunner, id: string, owner: string): Promise<void> {
  await db.query(`UPDATE webhook SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2`, [id, owner]);
}

/** Gives back every lease the instance `owner` holds (it is stopping). */
export async function releaseAllLeases(db: SqlRunner, owner: string): Promise<void> {
  await db.query(`UPDATE webhook SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1`, [owner]);
}

/** One attempt, as the log keeps it. */
export interface Attempt {
  deliveryId: string;
  eventXid: string;
  eventId: string;
  eventType: string;
  attempt: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

async function logAttempt(tx: SqlRunner, target: DeliveryTarget, attempt: Attempt, succeeded: boolean, retryInMs: number | null): Promise<void> {
  await tx.query(
    `INSERT INTO webhook_delivery (webhook_id, institution_id, delivery_id, event_xid, event_id, event_type, attempt, status_code, error,
                                   duration_ms, succeeded, next_attempt_at)
     VALUES ($1, $2, $3, $4::xid8, $5, $6, $7, $8, $9, $10, $11, now() + $12 * interval '1 millisecond')`,
    [target.id, target.institutionId, attempt.deliveryId, attempt.eventXid, attempt.eventId, attempt.eventType, attempt.attempt,
      attempt.statusCode, attempt.error, attempt.durationMs, succeeded, retryInMs],
  );
}

/**
 * The receiver acknowledged the event: the cursor moves past it, the failure is forgotten, the lease is renewed and
 * the attempt is logged, in one statement. False when this instance no longer holds the lease or an administrator
 * changed the webhook since it was read (nothing written: whoever delivers next reads it again and sends the event
 * again, to the URL and with the secret it has now).
 *
 * It does not wait for the WAL flush (most of a delivery's cost otherwise): a crash may lose the last few cursor
 * moves, and those events are then delivered again, which at-least-once allows.
 */
export async function recordDelivered(db: SqlRunner, target: DeliveryTarget, owner: string, leaseMs: number, attempt: Attempt): Promise<boolean> {
  const rows: unknown[] = await db.query(
    `WITH unflushed AS (SELECT set_config('synchronous_commit', 'off', true)),
     moved AS (
       UPDATE webhook SET cursor_xid = $3::xid8, cursor_id = $4, attempts = 0, failing_since = NULL, next_attempt_at = NULL,
                          last_delivery_at = now(), last_error = NULL, lease_until = now() + $5 * interval '1 millisecond'
        WHERE id = $1 AND lease_owner = $2 AND status = 'ACTIVE' AND updated_at = $11::timestamptz AND EXISTS (SELECT 1 FROM unflushed)
        RETURNING id, institution_id)
     INSERT INTO webhook_delivery (webhook_id, institution_id, delivery_id, event_xid, event_id, event_type, attempt, status_code, duration_ms, succeeded)
     SELECT id, institution_id, $6, $3::xid8, $4, $7, $8, $9, $10, true FROM moved
     RETURNING id`,
    [target.id, owner, attempt.eventXid, attempt.eventId, leaseMs, attempt.deliveryId, attempt.eventType, attempt.attempt, attempt.statusCode, attempt.durationMs,
      target.updatedAt],
  );
  return rows.length === 1;
}

/**
 * The attempt failed: the event stays at the head, to be retried in `retryInMs`, and the lease is given back. When
 * the head has been failing for `windowMs`, the webhook is disabled instead, with a WEBHOOK_DISABLED event, in the
 * same transaction (`db` is a connection of its own: the statements make one transaction on it). Returns whether it
 * was disabled (null: this instance no longer held the lease, or an administrator changed the webhook meanwhile: a
 * failure of the old URL or secret says nothing about the new ones).
 */
export async function recordFailed(
  db: SqlRunner, target: DeliveryTarget, owner: string, attempt: Attempt, retryInMs: number, windowMs: number,
): Promise<{ disabled: boolean } | null> {
  await db.query('BEGIN');
  try {
    const [row] = await db.query(
      `UPDATE webhook w SET attempts = w.attempts + 1, failing_since = coalesce(w.failing_since, now()), last_error = $3,
              status = CASE WHEN coalesce(w.failing_since, now()) + $4 * interval '1 millisecond' <= now() THEN 'DISABLED' ELSE 'ACTIVE' END,
              lease_owner = NULL, lease_until = NULL
        WHERE w.id = $1 AND w.lease_owner = $2 AND w.status = 'ACTIVE' AND w.updated_at = $5::timestamptz
        RETURNING w.status, w.failing_since AS "failingSince"`,
      [target.id, owner, attempt.error, windowMs, target.updatedAt],
    );
    if (!row) {
      await db.query('COMMIT');
      return null;
    }
    const disabled = row.status === 'DISABLED';
    if (disabled) {
      const reason = `Every delivery of the event at its head failed from ${(row.failingSince as Date).toISOString()} for longer than the retry window `
        + `(${Math.round(windowMs / 1000)} s); last error: ${attempt.error}`;
      await db.query(`UPDATE webhook SET disabled_reason = $2, disabled_at = now(), next_attempt_at = NULL, updated_at = now() WHERE id = $1`, [target.id, reason]);
      await appendEvents(db, [{
        institutionId: target.institutionId, eventType: 'WEBHOOK_DISABLED', aggregateType: 'API_KEY', aggregateId: target.id, actor: DELIVERY_ACTOR,
        payload: { url: target.url, reason, changes: [{ field: 'status', oldValue: 'ACTIVE', newValue: 'DISABLED' }] },
      }]);
    } else {
      await db.query(`UPDATE webhook SET next_attempt_at = now() + $2 * interval '1 millisecond' WHERE id = $1`, [target.id, retryInMs]);
    }
    await logAttempt(db, target, attempt, false, disabled ? null : retryInMs);
    await db.query('COMMIT');
    return { disabled };
  } catch (e) {
    await db.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/** A page of a webhook's log, newest first, before the attempt `beforeId` (exclusive), one row more than asked. */
export function findDeliveries(db: EntityManager, institutionId: string, webhookId: string, limit: number, beforeId: string | null): Promise<WebhookDelivery[]> {
  const qb = db.getRepository(WebhookDelivery).createQueryBuilder('d')
    .where('d.institution_id = :institutionId AND d.webhook_id = :webhookId', { institutionId, webhookId });
  if (beforeId) qb.andWhere('d.id < :beforeId', { beforeId });
  return qb.orderBy('d.id', 'DESC').limit(limit).getMany();
}

/**
 * Deletes log entries older than `keepMs` and, per webhook, beyond its newest `keepPerWebhook`; returns how many.
 * In batches, so that a large log never makes one long transaction.
 */
export async function pruneDeliveries(db: SqlRunner, keepMs: number, keepPerWebhook: number, batch = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const [{ n }] = await db.query(
      `WITH doomed AS (
         SELECT id FROM webhook_delivery WHERE at < now() - $1 * interval '1 millisecond' LIMIT $2)
       , gone AS (DELETE FROM webhook_delivery d USING doomed WHERE d.id = doomed.id RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [keepMs, batch],
    );
    total += n;
    if (n < batch) break;
  }
  const [{ n }] = await db.query(
    `WITH ranked AS (
       SELECT d.id FROM webhook w
        CROSS JOIN LATERAL (SELECT id FROM webhook_delivery WHERE webhook_id = w.id ORDER BY id DESC OFFSET $1) d)
     , gone AS (DELETE FROM webhook_delivery d USING ranked WHERE d.id = ranked.id RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    [keepPerWebhook],
  );
  return total + n;
}
