import type { EntityManager } from 'typeorm';
import { Webhook } from '../db/entities';
import { lockRow } from '../db/lock-row';

/** The institution's webhooks, newest first. */
export function findWebhooks(db: EntityManager, institutionId: string): Promise<Webhook[]> {
  return db.getRepository(Webhook).createQueryBuilder('w')
    .where('w.institution_id = :institutionId', { institutionId })
    .orderBy('w.created_at', 'DESC')
    .addOrderBy('w.id', 'DESC')
    .getMany();
}

export function findWebhook(db: EntityManager, institutionId: string, id: string): Promise<Webhook | null> {
  return db.getRepository(Webhook).findOneBy({ institutionId, id });
}

/** One webhook of the institution, locked for the rest of the transaction. */
export function lockWebhook(tx: EntityManager, institutionId: string, id: string): Promise<Webhook | null> {
  return lockRow(tx, Webhook, institutionId, id);
}

export type NewWebhook = Pick<Webhook, 'institutionId' | 'url' | 'description' | 'secret' | 'eventTypes' | 'families' | 'createdBy'>;

/**
 * Inserts a webhook whose cursor stands before every transaction still running: it receives every event that commits
 * from now on (its own WEBHOOK_CREATED among them, when its roles may read it). It may also receive a few that
 * committed shortly before, while a transaction older than them (in any database of the server) was still running:
 * one position in the stream cannot tell those apart, and missing an event would be worse than an extra one.
 */
export async function insertWebhook(tx: EntityManager, webhook: NewWebhook): Promise<Webhook> {
  const [{ id }] = await tx.query(
    `INSERT INTO webhook (institution_id, url, description, secret, event_types, families, created_by, cursor_xid, cursor_id)
     VALUES ($1, $2, $3, $4, $5::text[], $6::text[], $7,
             (pg_snapshot_xmin(pg_current_snapshot())::text::numeric - 1)::text::xid8, 9223372036854775807)
     RETURNING id`,
    [webhook.institutionId, webhook.url, webhook.description, webhook.secret, webhook.eventTypes, webhook.families, webhook.createdBy],
  );
  return (await tx.getRepository(Webhook).findOneBy({ id }))!;
}

/** What an administrator may change; the delivery state is the worker's, except what re-enabling resets. */
export type WebhookChanges = Partial<Pick<Webhook, 'url' | 'description' | 'secret' | 'eventTypes' | 'families'>> & {
  /** Disable (with the reason) or enable: enabling, or a new URL or secret, clears the failure and retries at once. */
  status?: { to: 'ACTIVE' } | { to: 'DISABLED'; reason: string };
  retryNow?: boolean;
};

export async function updateWebhookRow(tx: EntityManager, webhook: Webhook, changes: WebhookChanges): Promise<Webhook> {
  const { status, retryNow, ...fields } = changes;
  const set: Record<string, unknown> = { ...fields, updatedAt: () => 'now()' };
  if (status?.to === 'ACTIVE') Object.assign(set, { status: 'ACTIVE', disabledReason: null, disabledAt: null });
  if (status?.to === 'DISABLED') Object.assign(set, { status: 'DISABLED', disabledReason: status.reason, disabledAt: () => 'now()' });
  if (status?.to === 'ACTIVE' || retryNow) Object.assign(set, { attempts: 0, failingSince: null, nextAttemptAt: null });
  await tx.getRepository(Webhook).createQueryBuilder().update().set(set).where('id = :id', { id: webhook.id }).execute();
  return (await tx.getRepository(Webhook).findOneBy({ id: webhook.id }))!;
}

/** Deletes the webhook; its roles and delivery log go with it (ON DELETE CASCADE). */
export async function deleteWebhookRow(tx: EntityManager, id: string): Promise<void> {
  await tx.query(`DELETE FROM webhook WHERE id = $1`, [id]);
}
