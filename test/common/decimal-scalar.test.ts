import { Kind } from 'graphql';
import { DecimalScalar, formatDecimal } from '../../src/common/scalars';

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

test('Decimal input refuses floats, three decimals and text', () => {
  expect(() => DecimalScalar.parseValue(0.1)).toThrow(/two decimals/);
  expect(() => DecimalScalar.parseValue('1.005')).toThrow(/two decimals/);
  expect(() => DecimalScalar.parseValue('ten')).toThrow(/two decimals/);
  expect(() => DecimalScalar.parseLiteral({ kind: Kind.FLOAT, value: '0.1' })).toThrow();
});
