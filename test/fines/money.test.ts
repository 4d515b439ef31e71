import { fromCents, percentOf, positiveAmount, sumCents, toCents } from '../../src/fines/money';

test('R7.2 amounts are exact: 0.10 + 0.20 is exactly 0.30', () => {
  expect(fromCents(toCents('0.10') + toCents('0.20'))).toBe('0.30');
});

test('amounts round-trip through cents', () => {
  for (const text of ['0.00', '0.05', '12.50', '-10.00', '999999999999.99']) expect(fromCents(toCents(text))).toBe(text);
  expect(fromCents(toCents('12.5'))).toBe('12.50');
  expect(fromCents(toCents('7'))).toBe('7.00');
});

test('R7.2 an amount on entry must be positive, naming the field', () => {
  expect(() => positiveAmount('input.amount', '-1.00')).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'input.amount' } }));
  expect(() => positiveAmount('input.amount', '0')).toThrow(/greater than zero/);
  expect(() => positiveAmount('input.amount', '1.005')).toThrow(/two places/);
  expect(positiveAmount('input.amount', '3.00')).toBe(300n);
});

test('percentages round half away from zero to the cent', () => {
  expect(fromCents(percentOf(toCents('10.00'), '7.50'))).toBe('0.75');
  expect(fromCents(percentOf(toCents('0.07'), '7.50'))).toBe('0.01');
  expect(fromCents(percentOf(toCents('0.06'), '7.50'))).toBe('0.00');
});

test('a hundred waives of 0.01 sum to exactly 1.00', () => {
  expect(fromCents(sumCents(Array.from({ length: 100 }, () => toCents('0.01'))))).toBe('1.00');
});
