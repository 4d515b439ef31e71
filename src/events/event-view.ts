import type { EventRow } from './outbox.repository';
import { encodeEventCursor } from './event-position';

/** An outbox row as the schema's event types resolve it: every field reads from here. */
export interface EventView {
  row: EventRow;
  cursor: string;
}

export function viewOf(row: EventRow): EventView {
  return { row, cursor: encodeEventCursor(row) };
}

/** The changes an event carries, as history recorded them (R9.1: a secret only as "(changed)"). */
export function changesOf(row: EventRow): { field: string; oldValue: string | null; newValue: string | null }[] {
  const changes = row.payload.changes;
  if (!Array.isArray(changes)) return [];
  return changes.map((c: { field?: unknown; oldValue?: unknown; newValue?: unknown }) => ({
    field: String(c.field),
    oldValue: c.oldValue == null ? null : String(c.oldValue),
    newValue: c.newValue == null ? null : String(c.newValue),
  }));
}

/** The id of the note or block a BLOCK or NOTE event is about, as its service recorded it. */
export function itemIdOf(row: EventRow): string {
  const id = row.family === 'BLOCK' ? row.payload.blockId : row.payload.noteId;
  return typeof id === 'string' ? id : row.aggregateId;
}
