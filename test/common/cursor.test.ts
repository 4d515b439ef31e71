import { decodeCursor, encodeCursor } from '../../src/common/cursor';

test('a cursor round-trips the sort key and id', () => {
  const cursor = { sortName: 'doe jane', id: '3434d5c9-37a2-4da4-8032-f08ba9b461ad' };
  expect(decodeCursor(encodeCursor(cursor), 'after')).toEqual(cursor);
});

test('a cursor that was not issued by the API is BAD_USER_INPUT naming the argument', () => {
  expect(() => decodeCursor('not-a-cursor', 'after')).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } }));
});
