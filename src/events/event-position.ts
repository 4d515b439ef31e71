import { CursorOrder, decodeCursor, encodeCursor } from '../common/cursor';

/**
 * Where an event stands in the one order every subscriber and the `events`
 * query see: its transaction's id, then its outbox id. Events are released
 * only once their transaction id is below every transaction still running
 * (see outbox.repository.ts), so nothing can later appear before a released
 * event: a cursor is a complete description of what its holder has seen.
 */
export interface EventPosition {
  xid: bigint;
  id: bigint;
}

const EVENTS: CursorOrder = { name: 'EVENTS', key: 'bigint', id: 'bigint' };

/** Before every event. */
export const ORIGIN: EventPosition = { xid: 0n, id: 0n };

export function encodeEventCursor(position: { xid: string | bigint; id: string | bigint }): string {
  return encodeCursor(EVENTS, { key: String(position.xid), id: String(position.id) });
}

/** The position an `after` argument names; BAD_USER_INPUT naming `field` unless this API could have issued it. */
export function decodeEventCursor(text: string, field: string): EventPosition {
  const { key, id } = decodeCursor(text, field, EVENTS);
  return { xid: BigInt(key!), id: BigInt(id) };
}

export function comparePositions(a: EventPosition, b: EventPosition): number {
  if (a.xid !== b.xid) return a.xid < b.xid ? -1 : 1;
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}
