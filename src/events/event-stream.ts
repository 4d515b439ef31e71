import type { EntityManager } from 'typeorm';
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
  selection: EventSelection & { usersOnly?: boolean };
  /** Replay from after this position first; null: only events published from now on. */
  after: EventPosition | null;
  /** Most events waiting for a slow subscriber; past it, `overflow` is called and the stream ends. */
  bufferLimit: number;
  overflow(waiting: number): void;
}

let replaySeq = 0;

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
 */
export async function* openEventStream(options: StreamOptions): AsyncGenerator<StreamItem> {
  const { hub, selection } = options;
  // Live reads waiting for the subscriber: references to the hub's shared views, filtered for this subscriber.
  const queue: { seq: number; views: EventView[]; next: number }[] = [];
  let waiting = 0;
  let wakeUp: (() => void) | null = null;
  let overflowed = false;
  let last = options.after;
  const onBatch = (batch: EventBatch) => {
    if (overflowed) return;
    const audience = options.audience();
    const views = batch.views.filter(({ row }) => mayReceive(audience, row) && matches(selection, row));
    if (views.length === 0) return;
    queue.push({ seq: batch.seq, views, next: 0 });
    waiting += views.length;
    if (waiting > options.bufferLimit) {
      overflowed = true;
      queue.length = 0;
      options.overflow(waiting);
    }
    wakeUp?.();
  };

  let unlisten: (() => void) | null = null;
  try {
    if (last === null) {
      unlisten = hub.listen(onBatch);
    } else {
      for (;;) {
        const target = hub.published();
        for (;;) {
          const page = await readReleasedEvents(options.db, last, REPLAY_PAGE, { upTo: target, audience: options.audience(), selection });
          const views = page.rows.map(viewOf);
          const seq = --replaySeq;
          for (const view of views) yield { view, seq, siblings: views };
          const end = page.rows[page.rows.length - 1];
          if (end) last = { xid: BigInt(end.xid), id: BigInt(end.id) };
          if (page.rows.length < REPLAY_PAGE) break;
        }
        // Caught up with `target`. Still where the hub stands (same turn, no await since the check): go live.
        last = target;
        if (comparePositions(hub.published(), target) === 0) {
          unlisten = hub.listen(onBatch);
          break;
        }
      }
    }
    for (;;) {
      while (queue.length === 0 && !overflowed) await new Promise<void>((resolve) => (wakeUp = resolve));
      wakeUp = null;
      if (overflowed) return;
      const read = queue[0];
      const view = read.views[read.next++];
      if (read.next === read.views.length) queue.shift();
      waiting -= 1;
      const position = { xid: BigInt(view.row.xid), id: BigInt(view.row.id) };
      if (last && comparePositions(position, last) <= 0) continue;
      last = position;
      yield { view, seq: read.seq, siblings: read.views };
    }
  } finally {
    unlisten?.();
  }
}
