import crypto from 'node:crypto';
import { eventsDelivered } from '../observability/metrics';
import os from 'node:os';
import type { GraphQLSchema } from 'graphql';
import type { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { TokenIssuer } from '../auth/tokens';
import { scheduleJob } from '../common/schedule-job';
import { contextOf } from '../context';
import { JOB_LEASE_MS, withLease } from '../db/job-lease';
import { openOwnConnection, statementsOn } from '../db/own-connection';
import type { EventHub } from '../events/event-hub';
import { viewOf } from '../events/event-view';
import { EventRow, readReleasedEvents, SqlRunner } from '../events/outbox.repository';
import { eventAudience } from '../policy/event-audience';
import type { Operator } from '../policy/operator';
import { createPolicy } from '../policy/policy';
import {
  Attempt, claimWebhook, countPending, DeliveryTarget, findDueWebhookIds, loadDeliveryTarget, nextRetryAt, pruneDeliveries, recordDelivered, recordFailed, releaseAllLeases, releaseLease,
} from './webhook-delivery.repository';
import { operatorOf } from './webhook-operator';
import { bodyOf, createEventShaper } from './webhook-payload';
import { postEvent } from './webhook-request';
import { retryDelayMs } from './webhook-retry';
import type { WebhookSettings } from './webhook-settings';
import { bodySignatureOf, deliveryIdOf, signatureOf } from './webhook-signature';

/** Events read per statement for one webhook; it delivers them one by one, in order. */
const PAGE = 100;
/** Due webhooks looked at per wake: each costs two reads, and is taken (a write) only when it has something to deliver. */
const CANDIDATES = 200;
/** The delivery log keeps 7 days, and at most this many attempts per webhook. */
export const LOG_KEEP_MS = 7 * 86_400_000;
export const LOG_KEEP_PER_WEBHOOK = 10_000;

export interface WebhookWorkerOptions {
  db: DataSource;
  hub: EventHub;
  schema: GraphQLSchema;
  tokens: TokenIssuer;
  settings: WebhookSettings;
  log(line: string): void;
}

/**
 * One per instance (started by server.ts with the other jobs): delivers every active webhook's events from its
 * cursor, in stream order, one POST per event, moving the cursor only after a 2xx (at least once, ordered per
 * webhook and so per user). It reads the outbox like a replay does (released events only, below the oldest running
 * transaction: nothing is skipped), filtered in SQL by the audience of the webhook's roles and its event filter.
 *
 * It wakes when the instance's event hub reads new events, when a retry falls due, and every `pollMs`. Several
 * instances share the work through leases on the webhook rows (webhook-delivery.repository.ts): a webhook is
 * delivered by one instance at a time. Returns the stop function: it aborts requests in flight (their events are
 * delivered again later: at least once) and gives the leases back.
 */
export function startWebhookWorker(options: WebhookWorkerOptions): () => Promise<void> {
  const { db, settings, log } = options;
  const owner = `${os.hostname()}:${process.pid}:${crypto.randomUUID()}`;
  // A delivery renews the lease; it must outlast the longest request, with room to spare.
  const leaseMs = Math.max(60_000, settings.timeoutMs * 3);
  const shape = createEventShaper(options.schema);
  const abort = new AbortController();
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  let wakes = 0;
  let timer: NodeJS.Timeout | null = null;
  let timerAt = 0;

  // A connection of its own, outside the request pool (which neither waits for deliveries nor counts their
  // statements), opened again when lost. Its statements run one after another: a transaction (recordFailed) holds it.
  let client: Client | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  async function connection(): Promise<SqlRunner> {
    if (!client) {
      const opened = await openOwnConnection(db, 'carrel-webhooks');
      opened.on('end', () => {
        if (client === opened) client = null;
      });
      // A statement that hangs must not stop every webhook's delivery for good.
      await opened.query(`SET statement_timeout = '10s'`);
      client = opened;
    }
    return statementsOn(client);
  }
  function withSql<T>(work: (sql: SqlRunner) => Promise<T>): Promise<T> {
    const run = queue.then(async () => work(await connection()));
    queue = run.catch(() => {});
    return run;
  }

  /** One event to its webhook; true when acknowledged and recorded (the next may follow). */
  async function deliverOne(target: DeliveryTarget, row: EventRow, ctx: ReturnType<typeof contextOf>): Promise<boolean> {
    const deliveryId = deliveryIdOf(target.id, row.xid, row.id);
    const attempt: Attempt = {
      deliveryId, eventXid: row.xid, eventId: row.id, eventType: row.eventType, attempt: target.attempts + 1, statusCode: null, error: null, durationMs: 0,
    };
    let ok = false;
    try {
      const body = bodyOf(target, deliveryId, await shape(ctx, viewOf(row)));
      const timestamp = Math.floor(Date.now() / 1000);
      const outcome = await postEvent(target.url, {
        'content-type': 'application/json',
        'user-agent': 'Carrel-Webhooks/1',
        'x-carrel-webhook-id': target.id,
        'x-carrel-delivery': deliveryId,
        'x-carrel-event': row.eventType,
        'x-carrel-timestamp': String(timestamp),
        'x-carrel-signature': signatureOf(target.secret, timestamp, body),
        'x-carrel-signature-body': bodySignatureOf(target.secret, body),
      }, body, settings.timeoutMs, abort.signal);
      Object.assign(attempt, { statusCode: outcome.statusCode, error: outcome.error, durationMs: outcome.durationMs });
      ok = outcome.ok;
    } catch (e) {
      attempt.error = `internal error: ${(e as Error).message}`.slice(0, 300);
    }
    // Cut short by the server stopping: not the receiver's failure. Whoever delivers next sends it again.
    if (stopped) return false;
    if (ok) {
      if (!(await withSql((sql) => recordDelivered(sql, target, owner, leaseMs, attempt)))) return false;
      target.attempts = 0;
      return true;
    }
    const retryInMs = retryDelayMs(attempt.attempt, settings);
    const result = await withSql((sql) => recordFailed(sql, target, owner, attempt, retryInMs, settings.retryWindowMs));
    if (result && !result.disabled) schedule(retryInMs + 5);
    if (result?.disabled) log(`webhook ${target.id} disabled after failing for the whole retry window: ${attempt.error}`);
    return false;
  }

  const audienceOf = (operator: Operator) => eventAudience(createPolicy(() => operator), operator);

  /** Whether the webhook has an event to deliver: read only, so that idle webhooks are never written to. */
  async function hasPending(id: string): Promise<boolean> {
    return withSql(async (sql) => {
      const target = await loadDeliveryTarget(sql, null, id, null);
      return target !== null && (await countPending(sql, target, audienceOf(operatorOf(target)), 1)) > 0;
    });
  }

  /** Delivers one leased webhook until it has nothing more, fails, or is lost; returns whether anything was delivered. */
  async function deliver(id: string): Promise<boolean> {
    let delivered = false;
    try {
      for (;;) {
        if (stopped) return delivered;
        const target = await withSql((sql) => loadDeliveryTarget(sql, null, id, owner));
        if (!target) return delivered;
        const operator = operatorOf(target);
        const audience = audienceOf(operator);
        const page = await withSql((sql) => readReleasedEvents(sql, { xid: BigInt(target.cursorXid), id: BigInt(target.cursorId) }, PAGE, {
          audience, selection: { types: target.eventTypes, families: target.families },
        }));
        if (page.rows.length === 0) return delivered;
        // One context per page: its loaders (were a field to use one) read as the webhook, as things are now.
        const ctx = contextOf(db, options.tokens, operator);
        for (const row of page.rows) {
          if (!(await deliverOne(target, row, ctx))) return delivered;
          eventsDelivered.inc({ transport: 'webhook' });
          delivered = true;
        }
        if (page.rows.length < PAGE) return delivered;
      }
    } catch (e) {
      if (!stopped) log(`delivering webhook ${id} failed, will retry: ${(e as Error).message}`);
      return delivered;
    } finally {
      await withSql((sql) => releaseLease(sql, id, owner)).catch(() => {});
    }
  }

  /** Wakes the worker in `ms`, unless it is already due to wake sooner. */
  function schedule(ms: number): void {
    const at = Date.now() + Math.max(ms, 0);
    if (stopped || (timer && timerAt <= at)) return;
    if (timer) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => {
      timer = null;
      void cycle();
    }, at - Date.now());
    timer.unref();
  }

  /** Takes every due webhook this instance has room for and starts delivering each; then sleeps until the next retry or poll. */
  function cycle(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = claimAndStart().finally(() => {
      running = null;
    });
    return running;
  }

  async function claimAndStart(): Promise<void> {
    try {
      do {
        again = false;
        let room = settings.concurrency - inFlight.size;
        if (room <= 0) break;
        for (const id of await withSql((sql) => findDueWebhookIds(sql, CANDIDATES))) {
          if (room <= 0 || stopped) break;
          const seen = wakes;
          if (!(await hasPending(id)) || !(await withSql((sql) => claimWebhook(sql, id, owner, leaseMs)))) continue;
          room -= 1;
          const work: Promise<void> = deliver(id).then((delivered) => {
            inFlight.delete(work);
            // More may have committed while it delivered (it held the lease, so no cycle could take it): look again.
            if (delivered || wakes !== seen) void cycle();
          });
          inFlight.add(work);
        }
      } while (again && !stopped);
      if (stopped) return;
      const retry = await withSql((sql) => nextRetryAt(sql));
      schedule(retry ? Math.min(settings.pollMs, retry.getTime() - Date.now() + 5) : settings.pollMs);
    } catch (e) {
      if (!stopped) log(`webhook delivery failed, will retry: ${(e as Error).message}`);
      schedule(settings.pollMs);
    }
  }

  const unlisten = options.hub.listen(() => {
    wakes += 1;
    void cycle();
  });
  // One instance at a time prunes the log (src/db/job-lease.ts): another whose tick finds it taken skips that tick.
  const stopPruning = scheduleJob('pruning the webhook delivery log', 3_600_000, async () => {
    await withLease(db, 'webhooks:prune-delivery-log', JOB_LEASE_MS, async () => {
      const deleted = await withSql((sql) => pruneDeliveries(sql, LOG_KEEP_MS, LOG_KEEP_PER_WEBHOOK));
      if (deleted > 0) log(`pruned ${deleted} webhook delivery log entries`);
    });
  }, log);
  void cycle();

  return async () => {
    stopped = true;
    unlisten();
    stopPruning();
    if (timer) clearTimeout(timer);
    abort.abort();
    await running?.catch(() => {});
    await Promise.allSettled([...inFlight]);
    // A claim that raced the stop may hold leases nobody delivers: another instance must not wait for them to lapse.
    await withSql((sql) => releaseAllLeases(sql, owner)).catch(() => {});
    const last = client;
    client = null;
    await last?.end().catch(() => {});
  };
}
