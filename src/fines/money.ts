import { badInput } from '../common/errors';

/**
 * Money as integer cents in a bigint: exact, and never a JavaScript float.
 * Amounts cross the API and the database as decimal strings ("12.50");
 * arithmetic happens only here, on cents.
 */
export type Cents = bigint;

const DECIMAL = /^(-?)(\d{1,12})(?:\.(\d{1,2}))?$/;

/** "12.5" -> 1250n. Throws on anything that is not a decimal with at most two places. */
export function toCents(amount: string): Cents {
  const match = DECIMAL.exec(amount.trim());
  if (!match) throw new Error(`not a money amount: "${amount}"`);
  const [, sign, whole, fraction = ''] = match;
  const cents = BigInt(whole) * 100n + BigInt((fraction + '00').slice(0, 2));
  return sign === '-' ? -cents : cents;
}

/** 1250n -> "12.50"; -5n -> "-0.05". */
export function fromCents(cents: Cents): string {
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  const text = `${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
  return negative ? `-${text}` : text;
}

/**
 * An input amount (a Decimal scalar value): positive, at most two decimals and, when given, at most `maximum`
 * (the institution's largest charge); the refusal names the field.
 */
export function positiveAmount(field: string, amount: string, maximum?: string): Cents {
  let cents: Cents;
  try {
    cents = toCents(amount);
  } catch {
    throw badInput(field, 'The amount must be a decimal with at most two places, e.g. "12.50"');
  }
  if (cents <= 0n) throw badInput(field, 'The amount must be greater than zero (amounts are never negative on entry, R7.2)');
  if (maximum !== undefined && cents > toCents(maximum)) {
    const most = fromCents(toCents(maximum));
    throw badInput(field, `The amount ${fromCents(cents)} is over your institution's maximum of ${most} for one fine or fee (FineSettings.maximumAmount)`, { limit: most });
  }
  return cents;
}

/** Rounds rate% of an amount to the cent, half away from zero. `rate` is a numeric string such as "7.50". */
export function percentOf(amount: Cents, rate: string): Cents {
  const basisPoints = toCents(rate); // 7.50% -> 750 hundredths of a percent
  const scaled = amount * basisPoints; // in 1/10000 of a cent
  const half = 5000n;
  return scaled >= 0n ? (scaled + half) / 10000n : -((-scaled + half) / 10000n);
}

export function sumCents(values: Cents[]): Cents {
  return values.reduce((a, b) => a + b, 0n);
}
