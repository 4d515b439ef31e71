import type { EntityManager } from 'typeorm';
import { eventsDelivered } from '../observability/metrics';
import { EventAudience, mayReceive } from '../policy/event-audience';
import type { EventBatch, EventHub } from './event-hub';
import { comparePositions, EventPosition } from './event-position';
import { EventView, viewOf } from './event-view';
import { EventRow, EventSelection, readReleasedEvents } from './outbox.repository';

/** Events a replay reads per statement. */
const REPLAY_PAGE = 200;

/**
 * One event for one subscriber, with the other events of the same read that
 * the subscriber receives: subscribers sharing a query execute them together
 * (event-execution.ts), so their loaders batch across the read.
 */
export interface StreamItem {
  view: EventView;
  /** The read this event came from: a hub batch (positive) or a replay page (negative). */
  seq: number;
  siblings: EventView[];
}

export interface StreamOptions {
  db: EntityManager;
  hub: EventHub;
  /** Who is subscribed, asked again for every event: the connection re-reads its operator when it changes. */
  audience(): EventAudience;
  /**
   * While the connection reads its operator again (an event concerned it: a role removed, a scope narrowed), the
   * promise of that re-read. Reads published meanwhile are filtered only once it settles, with the operator as it
   * is then: an event committed after the operator lost access never passes on the access it lost.
   */
  settling(): Promise<void> | null;
  selection: EventSelection & { usersOnly?: boolean };
  /** Replay from after this position first; null: only events published from now on. */
  after: EventPosition | null;
  /** Most events waiting for a slow subscriber; past it, `overflow` is called and the stream ends. */
  bufferLimit: number;
  overflow(waiting: number): void;
}

let replaySeq = 0;

/**
 * Deliveries all streams may make in one turn of the event loop. One read fans out to every subscriber in
 * microtasks, which run before any I/O: a thousand subscribers would keep the instance's HTTP requests (the writers)
 * waiting for the whole fan-out. Past this share, streams wait for the next turn, and requests interleave.
 */
const FAIR_SHARE = 200;
let sinceTurn = 0;
let turn: Promise<void> | null = null;

/** Null while this turn's share lasts; else the next turn, to wait for. */
function nextTurn(): Promise<void> | null {
  if (++sinceTurn <= FAIR_SHARE) return null;
  turn ??= new Promise((resolve) => setImmediate(() => {
    sinceTurn = 0;
    turn = null;
    resolve();
  }));
  return turn;
}

function matches(selection: StreamOptions['selection'], row: EventRow): boolean {
  return (!selection.families?.length || selection.families.includes(row.family))
    && (!selection.types?.length || selection.types.includes(row.eventType))
    && (!selection.userId || row.userId === selection.userId)
    && (!selection.usersOnly || row.aggregateType === 'USER');
}

/**
 * A subscriber's events, in stream order, with no gap and no duplicate:
 * first those after `after` read from the outbox (up to what the hub has
 * published), then, from the very position the replay reached, those the hub
 * publishes. Switching from replay to live happens in one turn of the event
 * loop, once a replay page ends exactly where the hub stands; until then the
 * replay simply reads on, so a subscriber far behind costs the database
 * reads at its own pace and never buffers live events in memory.
 *
 * An iterator object rather than an async generator: `return()` (the client
 * completed, the connection closed) must end a stream that is waiting for
 * its next event at once, and a generator only sees it at its next `yield`.
 */
export function openEventStream(options: StreamOptions): AsyncIterableIterator<StreamItem> & { return(): Promise<IteratorResult<StreamItem>> } {
  const { hub, selection } = options;
  // Replayed events not yet taken, then live reads waiting for the subscriber (references to the hub's shared views).
  const replayed: StreamItem[] = [];
  const queue: { seq: number; views: EventView[]; next: number }[] = [];
  let waiting = 0;
  let wakeUp: (() => void) | null = null;
  let live = false;
  let ended = false;
  let last = options.after;
  let unlisten: (() => void) | null = null;
  const done = (): IteratorResult<StreamItem> => ({ value: undefined, done: true });

  const end = () => {
    ended = true;
    queue.length = 0;
    deferred.length = 0;
    unlisten?.();
    unlisten = null;
    wakeUp?.();
  };
  // Reads that arrived while the operator was being read again, in order, not yet filtered.
  const deferred: EventBatch[] = [];
  let deferredEvents = 0;
  const accept = (batch: EventBatch) => {
    const audience = options.audience();
    const views = batch.views.filter(({ row }) => mayReceive(audience, row) && matches(selection, row));
    if (views.length === 0) return;
    queue.push({ seq: batch.seq, views, next: 0 });
    waiting += views.length;
    if (waiting > options.bufferLimit) {
      options.overflow(waiting);
      end();
    }
  };
  const onBatch = (batch: EventBatch) => {
    if (ended) return;
    if (options.settling() || deferred.length > 0) {
      deferred.push(batch);
      // Not yet filtered: every event of the read counts, the subscriber's or not (a re-read takes milliseconds).
      deferredEvents += batch.views.length;
      if (deferredEvents > options.bufferLimit) {
        options.overflow(deferredEvents);
        end();
      }
    } else {
      accept(batch);
    }
    wakeUp?.();
  };
  /** Filters the deferred reads once the operator is settled; until then waits for it. */
  async function settle(): Promise<void> {
    for (let settling = options.settling(); settling; settling = options.settling()) await settling;
    if (ended) return;
    deferredEvents = 0;
    for (const batch of deferred.splice(0)) if (!ended) accept(batch);
  }
  const goLive = () => {
    live = true;
    unlisten = hub.listen(onBatch);
  };
  if (last === null) goLive();

  /** Reads replay pages until one yields events or the replay reaches the hub and turns live. */
  async function replay(): Promise<void> {
    while (!live && !ended && replayed.length === 0) {
      const target = hub.published();
      const page = await readReleasedEvents(options.db, last!, REPLAY_PAGE, { upTo: target, audience: options.audience(), selection });
      if (ended) return;
      const views = page.rows.map(viewOf);
      const seq = --replaySeq;
      for (const view of views) replayed.push({ view, seq, siblings: views });
      const tail = page.rows[page.rows.length - 1];
      if (tail) last = { xid: BigInt(tail.xid), id: BigInt(tail.id) };
      if (page.rows.length < REPLAY_PAGE) {
        // Caught up with `target`. Still where the hub stands (same turn, no await since the check): go live.
        last = target;
        if (comparePositions(hub.published(), target) === 0) goLive();
      }
    }
  }

  async function next(): Promise<IteratorResult<StreamItem>> {
    if (!live) await replay();
    if (replayed.length > 0) return delivered(replayed.shift()!);
    for (;;) {
      if (ended) return done();
      if (queue.length === 0 && deferred.length > 0) {
        await settle();
        continue;
      }
      if (queue.length === 0) {
        await new Promise<void>((resolve) => (wakeUp = resolve));
        wakeUp = null;
        continue;
      }
      const read = queue[0];
      const view = read.views[read.next++];
      if (read.next === read.views.length) queue.shift();
      waiting -= 1;
      const position = { xid: BigInt(view.row.xid), id: BigInt(view.row.id) };
      if (last && comparePositions(position, last) <= 0) continue;
      last = position;
      for (let wait = nextTurn(); wait; wait = nextTurn()) await wait;
      return delivered({ view, seq: read.seq, siblings: read.views });
    }
  }

  function delivered(item: StreamItem): IteratorResult<StreamItem> {
    eventsDelivered.inc({ transport: 'subscription' });
    return { value: item, done: false };
  }

  return {
    next,
    async return() {
      end();
      return done();
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
