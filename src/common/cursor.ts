import { badInput } from './errors';
import { isUuid } from './uuid';

/**
 * The one codec of the opaque keyset cursors every paginated field takes as `after`: base64url of the order the
 * cursor belongs to, the row's sort key and its id. A cursor is checked against the order it is used with before
 * anything reaches SQL: a cursor of another order, a garbled one, or one whose key or id is not of the order's type
 * (a date order with the key "x", an id that is not a uuid) is BAD_USER_INPUT naming the argument, never a database
 * error.
 */

/** How a sort key is compared in SQL, hence which texts are valid keys. */
export type CursorKeyType =
  /** Any text without NUL (PostgreSQL text cannot hold it). */
  | 'text'
  /** A calendar day as PostgreSQL prints it (`YYYY-MM-DD`), or `infinity` (a missing date sorted last). */
  | 'date'
  /** An unsigned 64-bit integer in decimal (a transaction id: the change events' order). */
  | 'bigint'
  /** An instant as PostgreSQL keeps it, to the microsecond, in UTC: `2026-11-30T08:17:53.123456Z` (a fine's dates). */
  | 'timestamptz'
  /** An exact decimal of at most 12 digits and 2 decimals, signed (an amount). */
  | 'numeric'
  /** No key: the order is by the id alone. */
  | 'none';

/** A keyset order a connection is paged in. */
export interface CursorOrder {
  /** Carried in every cursor: a cursor of one order is refused under another, since its position means nothing there. */
  name: string;
  key: CursorKeyType;
  /** The rows' id: a uuid, or a bigserial (a decimal that fits a bigint). */
  id: 'uuid' | 'bigint';
}

/** A position in an order: the sort key (null when the order has none) and the id of the last row of a page. */
export interface CursorPosition {
  key: string | null;
  id: string;
}

export function encodeCursor(order: CursorOrder, position: CursorPosition): string {
  return Buffer.from(JSON.stringify([order.name, order.key === 'none' ? null : position.key, position.id])).toString('base64url');
}

/** The position `text` names in `order`; refused as BAD_USER_INPUT naming `field` unless this API could have issued it. */
export function decodeCursor(text: string, field: string, order: CursorOrder): CursorPosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (Array.isArray(parsed) && parsed.length === 3) {
    const [name, key, id] = parsed;
    if (typeof name === 'string' && name !== order.name) throw badInput(field, `This cursor belongs to another list or sort order (${name})`);
    if (name === order.name && isValidKey(order.key, key) && isValidId(order.id, id)) return { key, id };
  }
  throw badInput(field, 'The cursor is not valid: use an endCursor returned by this API');
}

function isValidKey(type: CursorKeyType, key: unknown): key is string | null {
  if (type === 'none') return key === null;
  if (typeof key !== 'string') return false;
  if (type === 'text') return !key.includes('\u0000');
  if (type === 'bigint') return /^(0|[1-9]\d{0,19})$/.test(key) && BigInt(key) <= 0xffffffffffffffffn;
  if (type === 'numeric') return /^-?(0|[1-9]\d{0,11})\.\d{2}$/.test(key);
  if (type === 'timestamptz') {
    const match = /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{6}Z$/.exec(key);
    return !!match && isCalendarDay(match[1]);
  }
  return key === 'infinity' || isCalendarDay(key);
}

/** `YYYY-MM-DD` naming a day that exists (2024-02-30 does not), as PostgreSQL accepts it for a date. */
function isCalendarDay(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC maps years 0-99 to 1900-1999: set the year again.
  date.setUTCFullYear(year);
  return year >= 1 && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function isValidId(type: CursorOrder['id'], id: unknown): id is string {
  if (typeof id !== 'string') return false;
  // A bigint is at most 9,223,372,036,854,775,807: a webhook's cursor before any event of its transaction is that id.
  return type === 'uuid' ? isUuid(id) : /^[1-9]\d{0,18}$/.test(id) && BigInt(id) <= 0x7fffffffffffffffn;
}
