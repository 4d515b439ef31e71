import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { DateTimeResolver, EmailAddressResolver, LocalDateResolver } from 'graphql-scalars';

/**
 * What the API accepts at all. Formats are checked by the scalars below as
 * values are parsed; the ranges are limits, checked with every other input
 * limit by common/input-hygiene.ts, so a literal and a variable are refused
 * the same way (BAD_USER_INPUT naming the field's path).
 */
export const DATE_RANGE = { min: '1850-01-01', max: '9999-12-31' } as const;
/** numeric(14,2) columns hold 12 whole digits; three fewer leave room for sums and VAT and keep typos out. */
export const DECIMAL_MAXIMUM = '999999999.99';

export const dateInRange = (day: string) => day >= DATE_RANGE.min && day <= DATE_RANGE.max;
export const dateTimeInRange = (instant: Date) =>
  instant.getTime() >= Date.parse(`${DATE_RANGE.min}T00:00:00Z`) && instant.getTime() <= Date.parse(`${DATE_RANGE.max}T23:59:59.999Z`);
/** `text` is a value the Decimal scalar accepted. */
export const decimalInRange = (text: string) => {
  const [whole] = text.replace(/^-/, '').split('.');
  return whole.replace(/^0+(?=\d)/, '').length <= DECIMAL_MAXIMUM.indexOf('.');
};

/** Money: an exact decimal with at most two places, carried as a string, never a float. */
const NUMBER = /^-?\d+(\.\d+)?$/;
const TWO_PLACES = /^-?\d+(\.\d{1,2})?$/;

const FLOAT_REFUSED = 'Decimal takes a string such as "12.50" (or a whole number), never a floating-point number';
const NOT_A_NUMBER = 'Decimal must be a number written as a string, e.g. "12.50"';

function refuseDecimal(message: string): never {
  throw new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

function parseDecimal(value: unknown): string {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    refuseDecimal(FLOAT_REFUSED);
  }
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !NUMBER.test(text)) refuseDecimal(NOT_A_NUMBER);
  if (!TWO_PLACES.test(text)) refuseDecimal('Decimal takes at most two decimals, e.g. "12.50"');
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
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT) return parseDecimal(ast.value);
    return refuseDecimal(ast.kind === Kind.FLOAT ? FLOAT_REFUSED : NOT_A_NUMBER);
  },
});

/**
 * `Date` in the SDL is a calendar day (graphql-scalars' LocalDate), kept as a 'YYYY-MM-DD' string end to end. Output
 * comes from `date` columns, which PostgreSQL prints as exactly that (ormconfig.ts keeps them as text): those are
 * passed through, where LocalDate's own check parsed every one (1% of a list page's server time). Anything else still
 * goes through LocalDate's serializer, and its input parsing is unchanged.
 */
const localDate = LocalDateResolver.toConfig();
const DAY = /^\d{4}-\d{2}-\d{2}$/;
export const DateScalar = new GraphQLScalarType({
  ...localDate,
  name: 'Date',
  description: 'A calendar day, YYYY-MM-DD.',
  serialize: (value) => (typeof value === 'string' && DAY.test(value) ? value : localDate.serialize!(value)),
});

export const scalarResolvers = {
  DateTime: DateTimeResolver,
  Date: DateScalar,
  Decimal: DecimalScalar,
  EmailAddress: EmailAddressResolver,
};
