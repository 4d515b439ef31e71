import { badInput } from './errors';
import { isUuid } from './uuid';

/**
 * Opaque keyset cursors: base64url of the order they belong to, the row's
 * sort key and its id. A cursor of one order is refused under another, since
 * its position would mean nothing there.
 */
export interface Cursor {
  order: string;
  key: string;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.order, cursor.key, cursor.id])).toString('base64url');
}

export function decodeCursor(text: string, field: string, order: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (Array.isArray(parsed) && parsed.length === 3) {
    const [cursorOrder, key, id] = parsed;
    if (cursorOrder === order && typeof key === 'string' && typeof id === 'string' && isUuid(id)) return { order, key, id };
    if (typeof cursorOrder === 'string' && cursorOrder !== order) throw badInput(field, `This cursor belongs to another sort order (${cursorOrder})`);
  }
  throw badInput(field, 'The cursor is not valid: use an endCursor returned by this API');
}
