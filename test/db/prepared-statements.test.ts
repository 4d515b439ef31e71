import { statementNames } from '../../src/db/prepared';

/**
 * Issue 12: statements stay prepared on their connection until it closes, and the statement texts a client can cause
 * are many (a read of users reads the columns of the fields it selects): the named ones are bounded.
 */
test('Issue 12: one text is one name; past the bound, new texts run unnamed and the known ones keep their names', () => {
  const nameOf = statementNames(2);
  const a = nameOf('SELECT 1');
  const b = nameOf('SELECT 2');
  expect(a).toMatch(/^carrel_[A-Za-z0-9_-]{20}$/);
  expect(b).not.toBe(a);
  expect(nameOf('SELECT 3')).toBeNull();
  expect(nameOf('SELECT 1')).toBe(a);
  expect(nameOf('SELECT 2')).toBe(b);
});
