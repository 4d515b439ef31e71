import { Kind } from 'graphql';
import { dateInRange, dateTimeInRange, decimalInRange, DecimalScalar, formatDecimal } from '../../src/common/scalars';

test('money is serialised as a string with exactly two decimals', () => {
  expect(formatDecimal('12.5')).toBe('12.50');
  expect(formatDecimal('3')).toBe('3.00');
  expect(formatDecimal('-10.00')).toBe('-10.00');
  expect(formatDecimal('0.10')).toBe('0.10');
});

test('money never passes through a float: large values keep every digit', () => {
  expect(DecimalScalar.serialize('123456789012.34')).toBe('123456789012.34');
});

test('Decimal input accepts strings with up to two decimals and integers', () => {
  expect(DecimalScalar.parseValue('0.10')).toBe('0.10');
  expect(DecimalScalar.parseValue(7)).toBe('7');
  expect(DecimalScalar.parseLiteral({ kind: Kind.STRING, value: '12.50' })).toBe('12.50');
});

test('Decimal input refuses floats, text and three decimals, each with its own message', () => {
  expect(() => DecimalScalar.parseValue(0.1)).toThrow(/never a floating-point number/);
  expect(() => DecimalScalar.parseLiteral({ kind: Kind.FLOAT, value: '0.1' })).toThrow(/never a floating-point number/);
  expect(() => DecimalScalar.parseValue('ten')).toThrow(/must be a number written as a string/);
  expect(() => DecimalScalar.parseValue('1e309')).toThrow(/must be a number written as a string/);
  expect(() => DecimalScalar.parseValue('1.005')).toThrow(/at most two decimals/);
});

test('Decimal amounts are at most 999999999.99, whatever the leading zeros', () => {
  expect(decimalInRange('999999999.99')).toBe(true);
  expect(decimalInRange('000000000999999999.99')).toBe(true);
  expect(decimalInRange('1000000000')).toBe(false);
  expect(decimalInRange('-999999999999.99')).toBe(false);
});

test('Dates and instants are accepted from 1850-01-01 to 9999-12-31', () => {
  expect(dateInRange('1850-01-01')).toBe(true);
  expect(dateInRange('9999-12-31')).toBe(true);
  expect(dateInRange('1849-12-31')).toBe(false);
  expect(dateInRange('0000-01-01')).toBe(false);
  expect(dateTimeInRange(new Date('1850-01-01T00:00:00Z'))).toBe(true);
  expect(dateTimeInRange(new Date('1849-12-31T23:59:59Z'))).toBe(false);
  expect(dateTimeInRange(new Date('0000-01-01T00:00:00Z'))).toBe(false);
});
