import { CursorOrder, decodeCursor, encodeCursor } from '../../src/common/cursor';

/** The one cursor codec: every paginated field's `after` goes through it, so nothing it lets pass can fail in SQL. */
const BY_NAME: CursorOrder = { name: 'NAME:ASC', key: 'text', id: 'uuid' };
const BY_EXPIRY: CursorOrder = { name: 'EXPIRY_DATE:ASC', key: 'date', id: 'uuid' };
const HISTORY: CursorOrder = { name: 'USER_HISTORY', key: 'none', id: 'bigint' };
const ID = '3434d5c9-37a2-4da4-8032-f08ba9b461ad';

/** A cursor with any content, as a forger would write it. */
const forge = (...parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
const refusal = { extensions: { code: 'BAD_USER_INPUT', field: 'after' } };

test('a cursor round-trips its sort key and id, for a key of each type', () => {
  expect(decodeCursor(encodeCursor(BY_NAME, { key: 'doe jane', id: ID }), 'after', BY_NAME)).toEqual({ key: 'doe jane', id: ID });
  expect(decodeCursor(encodeCursor(BY_EXPIRY, { key: '2030-01-31', id: ID }), 'after', BY_EXPIRY)).toEqual({ key: '2030-01-31', id: ID });
  expect(decodeCursor(encodeCursor(BY_EXPIRY, { key: 'infinity', id: ID }), 'after', BY_EXPIRY)).toEqual({ key: 'infinity', id: ID });
  expect(decodeCursor(encodeCursor(HISTORY, { key: null, id: '42' }), 'after', HISTORY)).toEqual({ key: null, id: '42' });
});

test('a cursor that was not issued by the API is BAD_USER_INPUT naming the argument', () => {
  expect(() => decodeCursor('not-a-cursor', 'after', BY_NAME)).toThrow(expect.objectContaining(refusal));
});

test('a cursor of one sort order is refused under another, naming the order it belongs to', () => {
  expect(() => decodeCursor(encodeCursor(BY_NAME, { key: 'doe jane', id: ID }), 'after', BY_EXPIRY)).toThrow(/another list or sort order \(NAME:ASC\)/);
  expect(() => decodeCursor(encodeCursor(HISTORY, { key: null, id: '1' }), 'after', { ...HISTORY, name: 'PERMISSION_HISTORY' })).toThrow(/USER_HISTORY/);
});

test.each([
  ['a date order with the key "x"', BY_EXPIRY, forge('EXPIRY_DATE:ASC', 'x', ID)],
  ['a date order with a day that does not exist', BY_EXPIRY, forge('EXPIRY_DATE:ASC', '2024-02-30', ID)],
  ['a date order with year 0', BY_EXPIRY, forge('EXPIRY_DATE:ASC', '0000-01-01', ID)],
  ['a date order with a date and time', BY_EXPIRY, forge('EXPIRY_DATE:ASC', '2024-01-01T00:00:00Z', ID)],
  ['a text order with a NUL character in the key', BY_NAME, forge('NAME:ASC', 'doe\u0000', ID)],
  ['a text order with a number as the key', BY_NAME, forge('NAME:ASC', 7, ID)],
  ['an id that is not a uuid', BY_NAME, forge('NAME:ASC', 'doe', 'x')],
  ['a bigint id too large for a bigint', HISTORY, forge('USER_HISTORY', null, '99999999999999999999')],
  ['a negative bigint id', HISTORY, forge('USER_HISTORY', null, '-1')],
  ['a key on an order by id alone', HISTORY, forge('USER_HISTORY', 'x', '1')],
  ['a cursor of four parts', BY_NAME, forge('NAME:ASC', 'doe', ID, 'extra')],
  ['a JSON object', BY_NAME, Buffer.from('{"hello":"world"}').toString('base64url')],
])('Issue 9 finding 9: %s is BAD_USER_INPUT naming after, before any SQL', (_what, order, text) => {
  expect(() => decodeCursor(text, 'after', order)).toThrow(expect.objectContaining(refusal));
});

test('a leap day is a valid date key', () => {
  expect(decodeCursor(forge('EXPIRY_DATE:ASC', '2028-02-29', ID), 'after', BY_EXPIRY).key).toBe('2028-02-29');
});
