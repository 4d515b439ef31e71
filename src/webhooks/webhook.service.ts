import { connectionOf, pageSize } from '../common/connection';
import type { EntityManager } from 'typeorm';
import { CursorOrder, decodeCursor, encodeCursor } from '../common/cursor';
import { badInput, cursorExpired, notFound } from '../common/errors';
import { isUuid } from '../common/uuid';
import { loadConfig } from '../config';
import type { RequestContext } from '../context';
import type { Webhook, WebhookDelivery } from '../db/entities';
import { inTransaction } from '../db/transaction';
import { comparePositions, encodeEventCursor } from '../events/event-position';
import { appendEvents, readStreamBounds } from '../events/outbox.repository';
import type { CreateWebhookInput, RoleInput, UpdateWebhookInput } from '../generated/graphql';
import { eventAudience } from '../policy/event-audience';
import type { Operator } from '../policy/operator';
import { createPolicy } from '../policy/policy';
import { resolveDelegatedRoles } from '../roles/delegated-roles';
import type { ResolvedRole } from '../roles/role-input';
import { describeRole } from '../roles/role-scope';
import { findRolesOfWebhooks, insertRoles } from '../roles/role.repository';
import { countPending, findDeliveries, loadDeliveryTarget } from './webhook-delivery.repository';
import { operatorOf } from './webhook-operator';
import { MAX_SECRET_LENGTH, MIN_SECRET_LENGTH, secretHint } from './webhook-signature';
import { checkWebhookUrl } from './webhook-url';
import { deleteWebhookRow, findWebhook, findWebhooks, insertWebhook, lockWebhook, updateWebhookRow, WebhookChanges } from './webhook.repository';

/**
 * Webhooks (issue 13 item 6): who may manage them is the policy's decision ('webhook.manage'); like an API key, a
 * webhook gets only roles its creator could grant or holds itself at a reaching scope (policy.assertMayDelegate), and
 * changing or deleting one needs the same of every role it holds. Delivering is the worker's business
 * (webhook-worker.ts). Changes are published as API_KEY-family events (aggregate 'API_KEY': who may manage keys may
 * know about webhooks, the same administrators).
 */

/** Whether plain http to a loopback host is accepted: the server's setting, read once. */
let allowHttp: boolean | null = null;
/** Tests and embedders set what the environment would (server.ts passes its settings). */
export function setWebhookHttpAllowed(allowed: boolean): void {
  allowHttp = allowed;
}
const httpAllowed = (): boolean => (allowHttp ??= loadConfig(process.env, 'tool').webhooks.allowHttp);

const MAX_PAGE = 100;
const DELIVERIES: CursorOrder = { name: 'WEBHOOK_DELIVERIES', key: 'none', id: 'bigint' };
/** `pendingEvents` counts at most this many. */
const PENDING_COUNT_LIMIT = 10_000;

function checkSecret(secret: string, field: string): string {
  const length = [...secret].length;
  if (length < MIN_SECRET_LENGTH) throw badInput(field, `The secret needs at least ${MIN_SECRET_LENGTH} characters (use a random one: openssl rand -hex 32)`);
  if (length > MAX_SECRET_LENGTH) throw badInput(field, `The secret is longer than ${MAX_SECRET_LENGTH} characters`, { limit: MAX_SECRET_LENGTH });
  return secret;
}

const unique = <T>(values: readonly T[] | null | undefined): T[] => [...new Set(values ?? [])];
const describeList = (values: readonly string[]): string => (values.length === 0 ? '(all)' : [...values].sort().join(', '));

/** A webhook of the institution, or NOT_FOUND (a malformed id is not found either: never a database error). */
async function lockOwn(tx: EntityManager, operator: Operator, id: string): Promise<Webhook> {
  const webhook = isUuid(id) ? await lockWebhook(tx, operator.institutionId, id) : null;
  if (!webhook) throw notFound('No such webhook in your institution');
  return webhook;
}

/** The subset rule for changing a webhook: the operator must be able to give every role it holds. */
async function assertMayManage(ctx: RequestContext, tx: EntityManager, operator: Operator, webhook: Webhook): Promise<void> {
  for (const role of await findRolesOfWebhooks(tx, operator.institutionId, [webhook.id])) ctx.policy.assertMayDelegate(role, 'id');
}

function resolveRoles(ctx: RequestContext, operator: Operator, roles: readonly RoleInput[]): Promise<ResolvedRole[]> {
  return resolveDelegatedRoles(ctx, operator.institutionId, roles, 'A webhook');
}

/**
 * The operator's roles in force, each once, as the roles a webhook registered without any is given: the issue's
 * `createWebhook(url, events, secret)` names none, and a copy of one's own roles passes the subset rule as it is.
 */
function ownRoles(operator: Operator): RoleInput[] {
  const roles = new Map<string, RoleInput>();
  for (const r of operator.roles) {
    const scope = { type: r.scopeType, libraryId: r.libraryId, deskId: r.deskId };
    roles.set(JSON.stringify([r.roleType, scope]), { roleType: r.roleType, scope });
  }
  return [...roles.values()];
}

export function listWebhooks(ctx: RequestContext): Promise<Webhook[]> {
  const operator = ctx.policy.assert('webhook.manage');
  return findWebhooks(ctx.db.manager, operator.institutionId);
}

export async function getWebhook(ctx: RequestContext, id: string): Promise<Webhook | null> {
  const operator = ctx.policy.assert('webhook.manage');
  return isUuid(id) ? findWebhook(ctx.db.manager, operator.institutionId, id) : null;
}

export async function createWebhook(ctx: RequestContext, input: CreateWebhookInput): Promise<Webhook> {
  const operator = ctx.policy.assert('webhook.manage');
  const url = checkWebhookUrl(input.url, httpAllowed(), 'input.url');
  const secret = checkSecret(input.secret, 'input.secret');
  const roles = await resolveRoles(ctx, operator, input.roles ?? ownRoles(operator));
  const eventTypes = unique(input.events);
  const families = unique(input.families);
  const description = input.description?.trim() || null;
  return inTransaction(ctx.db, async (tx) => {
    const webhook = await insertWebhook(tx, {
      institutionId: operator.institutionId, url, description, secret, eventTypes, families, createdBy: operator.label,
    });
    const created = await insertRoles(tx, roles.map((r) => ({ ...r, institutionId: operator.institutionId, webhookId: webhook.id })), operator.label);
    await appendEvents(tx, [{
      institutionId: operator.institutionId, eventType: 'WEBHOOK_CREATED', aggregateType: 'API_KEY', aggregateId: webhook.id, actor: operator.label,
      payload: {
        url, roles: created.map(describeRole), events: eventTypes, families,
        changes: [
          { field: 'url', oldValue: null, newValue: url },
          { field: 'events', oldValue: null, newValue: describeList(eventTypes) },
          { field: 'families', oldValue: null, newValue: describeList(families) },
          { field: 'roles', oldValue: null, newValue: created.map(describeRole).join(', ') },
        ],
      },
    }]);
    return webhook;
  });
}

export async function updateWebhook(ctx: RequestContext, id: string, input: UpdateWebhookInput): Promise<Webhook> {
  const operator = ctx.policy.assert('webhook.manage');
  const url = input.url == null ? undefined : checkWebhookUrl(input.url, httpAllowed(), 'input.url');
  const secret = input.secret == null ? undefined : checkSecret(input.secret, 'input.secret');
  const roles = input.roles == null ? undefined : await resolveRoles(ctx, operator, input.roles);
  return inTransaction(ctx.db, async (tx) => {
    const webhook = await lockOwn(tx, operator, id);
    await assertMayManage(ctx, tx, operator, webhook);
    const changes: WebhookChanges = {};
    const recorded: { field: string; oldValue: string | null; newValue: string | null }[] = [];
    if (url !== undefined && url !== webhook.url) {
      changes.url = url;
      changes.retryNow = true;
      recorded.push({ field: 'url', oldValue: webhook.url, newValue: url });
    }
    if (secret !== undefined && secret !== webhook.secret) {
      changes.secret = secret;
      changes.retryNow = true;
      recorded.push({ field: 'secret', oldValue: null, newValue: '(changed)' });
    }
    if (input.events != null) {
      const next = unique(input.events);
      if (describeList(next) !== describeList(webhook.eventTypes)) {
        changes.eventTypes = next;
        recorded.push({ field: 'events', oldValue: describeList(webhook.eventTypes), newValue: describeList(next) });
      }
    }
    if (input.families != null) {
      const next = unique(input.families);
      if (describeList(next) !== describeList(webhook.families)) {
        changes.families = next;
        recorded.push({ field: 'families', oldValue: describeList(webhook.families), newValue: describeList(next) });
      }
    }
    if (input.description != null && (input.description.trim() || null) !== webhook.description) {
      changes.description = input.description.trim() || null;
      recorded.push({ field: 'description', oldValue: webhook.description, newValue: changes.description });
    }
    if (input.enabled === true && webhook.status === 'DISABLED') {
      // Disabled for longer than events are kept: what it would resume from is gone. Said, never skipped silently.
      const { pruned } = await readStreamBounds(tx);
      if (comparePositions({ xid: BigInt(webhook.cursorXid), id: BigInt(webhook.cursorId) }, pruned) < 0) {
        throw cursorExpired('input.enabled', 'Events after this webhook\'s cursor are older than the retention period and were pruned: '
          + 'delete it and register it again (it receives the events from then on), and have the partner re-read the current state with queries');
      }
      changes.status = { to: 'ACTIVE' };
      recorded.push({ field: 'status', oldValue: 'DISABLED', newValue: 'ACTIVE' });
    } else if (input.enabled === false && webhook.status === 'ACTIVE') {
      changes.status = { to: 'DISABLED', reason: `Disabled by ${operator.label}` };
      recorded.push({ field: 'status', oldValue: 'ACTIVE', newValue: 'DISABLED' });
    }
    if (roles !== undefined) {
      const before = await findRolesOfWebhooks(tx, operator.institutionId, [webhook.id]);
      await tx.query(`DELETE FROM role_assignment WHERE webhook_id = $1`, [webhook.id]);
      const after = await insertRoles(tx, roles.map((r) => ({ ...r, institutionId: operator.institutionId, webhookId: webhook.id })), operator.label);
      const [was, now] = [before.map(describeRole).sort().join(', '), after.map(describeRole).sort().join(', ')];
      if (was !== now) recorded.push({ field: 'roles', oldValue: was, newValue: now });
    }
    if (recorded.length === 0) return webhook;
    const updated = await updateWebhookRow(tx, webhook, changes);
    await appendEvents(tx, [{
      institutionId: operator.institutionId, eventType: 'WEBHOOK_UPDATED', aggregateType: 'API_KEY', aggregateId: webhook.id, actor: operator.label,
      payload: { url: updated.url, changes: recorded },
    }]);
    return updated;
  });
}

export async function deleteWebhook(ctx: RequestContext, id: string): Promise<{ deletedWebhookId: string }> {
  const operator = ctx.policy.assert('webhook.manage');
  return inTransaction(ctx.db, async (tx) => {
    const webhook = await lockOwn(tx, operator, id);
    await assertMayManage(ctx, tx, operator, webhook);
    await deleteWebhookRow(tx, webhook.id);
    await appendEvents(tx, [{
      institutionId: operator.institutionId, eventType: 'WEBHOOK_DELETED', aggregateType: 'API_KEY', aggregateId: webhook.id, actor: operator.label,
      payload: { url: webhook.url, changes: [{ field: 'url', oldValue: webhook.url, newValue: null }] },
    }]);
    return { deletedWebhookId: webhook.id };
  });
}

export const webhookSecretHint = (webhook: Webhook): string => secretHint(webhook.secret);

export const webhookCursor = (webhook: Webhook): string => encodeEventCursor({ xid: webhook.cursorXid, id: webhook.cursorId });

/** Events after the webhook's cursor that its roles and filter let it receive, counted up to PENDING_COUNT_LIMIT. */
export async function countPendingEvents(ctx: RequestContext, webhook: Webhook): Promise<number> {
  const target = await loadDeliveryTarget(ctx.db.manager, webhook.institutionId, webhook.id, null);
  if (!target) return 0;
  const operator = operatorOf(target);
  return countPending(ctx.db.manager, target, eventAudience(createPolicy(() => operator), operator), PENDING_COUNT_LIMIT);
}

/** A page of the webhook's delivery log, newest first (Relay connection). */
export async function listDeliveries(ctx: RequestContext, webhook: Webhook, args: { first?: number | null; after?: string | null }) {
  const operator = ctx.policy.assert('webhook.manage');
  const first = pageSize(args.first, MAX_PAGE);
  const beforeId = args.after ? decodeCursor(args.after, 'after', DELIVERIES).id : null;
  const rows: WebhookDelivery[] = await findDeliveries(ctx.db.manager, operator.institutionId, webhook.id, first + 1, beforeId);
  return connectionOf(rows, first, (node) => encodeCursor(DELIVERIES, { key: null, id: node.id }));
}
