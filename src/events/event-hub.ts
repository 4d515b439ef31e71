import type { Client } from 'pg';
import { outboxLag } from '../observability/metrics';
import type { DataSource } from 'typeorm';
import { openOwnConnection, statementsOn } from '../db/own-connection';
import { EventPosition, ORIGIN } from './event-position';
import { EventView, viewOf } from './event-view';
import { EventRow, readReleasedEvents, readStreamBounds } from './outbox.repository';

/** Rows one read of the outbox takes at most; a longer backlog is read in several. */
const PAGE_SIZE = 1000;
/** PostgreSQL channel the outbox trigger notifies on commit (migration EventStream). */
export const EVENTS_CHANNEL = 'carrel_events';

/** Events of one read of the outbox, in stream order, as the schema's event types resolve them; `seq` numbers the reads. */
export interface EventBatch {
  seq: number;
  views: EventView[];
}

export interface HubSettings {
  /** Safety net for a lost notification: the outbox is read at least this often (ms). */
  pollMs: number;
  /**
   * First and longest wait before reading again while committed events are held back behind a running transaction
   * (ms): that transaction may write no event (nor notify) when it ends, and it may be in another database of the
   * server. A read is one indexed statement on the hub's own connection.
   */
  heldRetryMs: number;
  heldRetryMaxMs: number;
  log(line: string): void;
}

export const DEFAULT_HUB_SETTINGS: HubSettings = { pollMs: 2000, heldRetryMs: 2, heldRetryMaxMs: 25, log: () => {} };

/**
 * One per Carrel instance: reads the outbox once for all of its subscribers
 * and hands every new event to each listener synchronously, in stream order.
 * It has a connection of its own, outside the request pool, which both
 * LISTENs and reads: requests never wait for it, nor it for them.
 *
 * It wakes on `NOTIFY carrel_events` (sent by the outbox trigger at commit),
 * on a timer (a notification lost with its connection is no event lost: the
 * database, not the notification, says what is new), and, while committed
 * events wait behind an older transaction still running, on a short backoff.
 */
export interface EventHub {
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Everything at or before this position has been handed to the listeners; everything after it will be. A
   * listener added now, in the same turn of the event loop, receives exactly the events after it.
   */
  published(): EventPosition;
  /** Adds a listener; returns its removal. */
  listen(listener: (batch: EventBatch) => void): () => void;
  /** Reads the outbox now (tests, and writers in this process that want no wait). */
  wake(): void;
  /** Listeners now: live subscriptions, plus the connections' watch (metrics, and tests that nothing leaks). */
  listenerCount(): number;
}

/** The last position of a read that took every released event: all of the transactions below `horizon`. */
const before = (horizon: bigint): EventPosition => (horizon > 0n ? { xid: horizon - 1n, id: 0x7fffffffffffffffn } : ORIGIN);

export function createEventHub(db: DataSource, settings: HubSettings = DEFAULT_HUB_SETTINGS): EventHub {
  const listeners = new Set<(batch: EventBatch) => void>();
  let published = ORIGIN;
  let seq = 0;
  let reading = false;
  let again = false;
  let stopped = false;
  let poll: NodeJS.Timeout | null = null;
  let heldTimer: NodeJS.Timeout | null = null;
  let heldWait = settings.heldRetryMs;
  let listener: Client | null = null;
  let reconnect: NodeJS.Timeout | null = null;
  let started = false;

  const publish = (rows: EventRow[]) => {
    outboxLag.observe(Math.max(0, Date.now() - rows[0].createdAt.getTime()) / 1000);
    // Made once per instance, shared by every subscriber's queue.
    const batch = { seq: ++seq, views: rows.map(viewOf) };
    for (const l of listeners) {
      try {
        l(batch);
      } catch (e) {
        settings.log(`event listener failed: ${(e as Error).message}`);
      }
    }
  };

  async function drain(): Promise<void> {
    if (stopped) return;
    if (reading || !listener) {
      // Read again when the current read ends, or once the connection is back.
      again = true;
      return;
    }
    const sql = statementsOn(listener);
    reading = true;
    let held = false;
    try {
      do {
        again = false;
        for (;;) {
          const read = await readReleasedEvents(sql, published, PAGE_SIZE, { askHeld: true });
          if (stopped) return;
          const complete = read.rows.length < PAGE_SIZE;
          const last = read.rows[read.rows.length - 1];
          // `published` moves in the same turn as the rows are handed out: a listener added between two reads
          // starts exactly after what it did not get.
          published = complete ? before(read.horizon) : { xid: BigInt(last.xid), id: BigInt(last.id) };
          if (read.rows.length > 0) publish(read.rows);
          if (complete) {
            held = read.held;
            break;
          }
        }
      } while (again && !stopped);
    } catch (e) {
      settings.log(`reading the outbox failed, retrying: ${(e as Error).message}`);
      held = true;
    } finally {
      reading = false;
    }
    // Committed events wait behind an older transaction that may write none (no notification will come when it
    // ends): look again soon, backing off while it runs.
    if (held && !stopped && !heldTimer) {
      heldTimer = setTimeout(() => {
        heldTimer = null;
        void drain();
      }, heldWait);
      heldWait = Math.min(heldWait * 2, settings.heldRetryMaxMs);
    } else if (!held) {
      heldWait = settings.heldRetryMs;
    }
  }

  async function connectListener(): Promise<void> {
    if (stopped) return;
    let client: Client;
    try {
      client = await openOwnConnection(db, 'carrel-events');
    } catch (e) {
      settings.log(`listening for events failed (${(e as Error).message}), retrying`);
      scheduleReconnect();
      return;
    }
    if (stopped) {
      await client.end().catch(() => {});
      return;
    }
    const retry = () => {
      if (listener === client) listener = null;
      client.removeAllListeners();
      client.on('error', () => {});
      client.end().catch(() => {});
      scheduleReconnect();
    };
    client.on('error', (e) => {
      settings.log(`event notifications lost (${e.message}), reconnecting`);
      retry();
    });
    client.on('end', retry);
    client.on('notification', () => void drain());
    try {
      // A read is a few index lookups; one that hangs must not stall delivery for good.
      await client.query(`SET statement_timeout = '10s'`);
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      listener = client;
      if (!started) {
        published = before((await readStreamBounds(statementsOn(client))).horizon);
        started = true;
      }
      // Whatever committed while nobody listened.
      again = false;
      void drain();
    } catch (e) {
      settings.log(`listening for events failed (${(e as Error).message}), retrying`);
      retry();
    }
  }

  function scheduleReconnect(): void {
    if (stopped || reconnect) return;
    reconnect = setTimeout(() => {
      reconnect = null;
      void connectListener();
    }, 1000);
  }

  const hub: EventHub = {
    async start() {
      await connectListener();
      if (!started) {
        await hub.stop();
        throw new Error('could not listen for events on the database');
      }
      poll = setInterval(() => void drain(), settings.pollMs);
      poll.unref();
    },
    async stop() {
      stopped = true;
      for (const timer of [poll, heldTimer, reconnect]) if (timer) clearTimeout(timer);
      listeners.clear();
      const client = listener;
      listener = null;
      if (client) {
        client.removeAllListeners();
        client.on('error', () => {});
        await client.end().catch(() => {});
      }
    },
    published: () => published,
    listen(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    wake: () => void drain(),
    listenerCount: () => listeners.size,
  };
  return hub;
}
