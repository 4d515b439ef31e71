import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { DateTimeResolver, EmailAddressResolver, LocalDateResolver } from 'graphql-scalars';

/** Money: an exact decimal with at most two places, carried as a string, never a float. */
const DECIMAL_PATTERN = /^-?\d{1,12}(\.\d{1,2})?$/;

function parseDecimal(value: unknown): string {
  const text = typeof value === 'number' && Number.isInteger(value) ? String(value) : value;
  if (typeof text !== 'string' || !DECIMAL_PATTERN.test(text)) {
    throw new GraphQLError('Decimal must be a string (or integer) with at most two decimals, e.g. "12.50"', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return text;
}

/** Serialises a numeric value from PostgreSQL ("12.5", "3") as "12.50", "3.00". */
export function formatDecimal(value: string): string {
  const negative = value.startsWith('-');
  const [whole, fraction = ''] = (negative ? value.slice(1) : value).split('.');
  const text = `${whole}.${(fraction + '00').slice(0, 2)}`;
  return negative && text !== '0.00' ? `-${text}` : text;
}

export const DecimalScalar = new GraphQLScalarType<string, string>({
  name: 'Decimal',
  description: 'An exact decimal amount of money, serialised as a string with two decimals.',
  serialize: (value) => {
    if (typeof value !== 'string' || !/^-?\d+(\.\d+)?$/.test(value)) throw new GraphQLError('Decimal values must come from numeric columns');
    return formatDecimal(value);
  },
  parseValue: parseDecimal,
  parseLiteral: (ast) => {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT) return parseDecimal(ast.kind === Kind.INT ? Number(ast.value) : ast.value);
    throw new GraphQLError('Decimal must be a string such as "12.50"', { extensions: { code: 'BAD_USER_INPUT' } });
  },
});

/** `Date` in the SDL is a calendar day (graphql-scalars' LocalDate), kept as a 'YYYY-MM-DD' string end to end. */
export const DateScalar = new GraphQLScalarType({ ...LocalDateResolver.toConfig(), name: 'Date', description: 'A calendar day, YYYY-MM-DD.' });

export const scalarResolvers = {
  DateTime: DateTimeResolver,
  Date: DateScalar,
  Decimal: DecimalScalar,
  EmailAddress: EmailAddressResolver,
};
