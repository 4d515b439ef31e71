import { badInput } from './errors';
import { isUuid } from './uuid';

/** Opaque keyset cursors: base64url of the sort key and the id of a row. */
export interface Cursor {
  sortName: string;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.sortName, cursor.id])).toString('base64url');
}

export function decodeCursor(text: string, field: string): Cursor {
  try {
    const [sortName, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (typeof sortName === 'string' && typeof id === 'string' && isUuid(id)) return { sortName, id };
  } catch {
    // fall through to the error below
  }
  throw badInput(field, 'The cursor is not valid: use an endCursor returned by this API');
}
