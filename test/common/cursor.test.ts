import { decodeCursor, encodeCursor } from '../../src/common/cursor';

const cursor = { order: 'NAME:ASC', key: 'doe jane', id: '3434d5c9-37a2-4da4-8032-f08ba9b461ad' };

test('a cursor round-trips its order, sort key and id', () => {
  expect(decodeCursor(encodeCursor(cursor), 'after', 'NAME:ASC')).toEqual(cursor);
});

test('a cursor that was not issued by the API is BAD_USER_INPUT naming the argument', () => {
  expect(() => decodeCursor('not-a-cursor', 'after', 'NAME:ASC')).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } }));
});

test('a cursor of one sort order is refused under another', () => {
  expect(() => decodeCursor(encodeCursor(cursor), 'after', 'EXPIRY_DATE:ASC')).toThrow(/another sort order/);
});
