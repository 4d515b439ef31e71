import fc from 'fast-check';

/**
 * The raw material of the fuzz cases: values that are valid, at a boundary,
 * or hostile. A value that must be a real row (a user's id, a library code)
 * is generated as a `Ref` to the n-th entry of a pool and resolved when the
 * case runs (pools.ts), so a case is the same from the same seed and shrinks
 * towards the first rows.
 */

export type PoolName =
  | 'user' | 'identifier' | 'email' | 'address' | 'phone' | 'note' | 'block' | 'statistic' | 'fine' | 'role' | 'profile'
  | 'rule' | 'proxy' | 'apiKey' | 'library' | 'desk'
  | 'code' | 'libraryCode' | 'identifierValue' | 'cursor' | 'institutionCode';

/** The n-th row of a pool, of the operator's institution or (foreign) of another one. */
export class Ref {
  constructor(readonly pool: PoolName, readonly index: number, readonly foreign: boolean) {}
  toJSON(): string {
    return `<${this.foreign ? 'foreign ' : ''}${this.pool} #${this.index}>`;
  }
}

export type Gen = null | boolean | number | string | Ref | Gen[] | { [key: string]: Gen };

export const ref = (pool: PoolName, foreignWeight = 1): fc.Arbitrary<Ref> =>
  fc.tuple(fc.nat({ max: 400 }), fc.nat({ max: 9 })).map(([index, f]) => new Ref(pool, index, f < foreignWeight));

/** Characters PostgreSQL, JSON or a terminal treat specially. */
const HOSTILE_STRINGS = [
  '', ' ', '  padded  ', '\u0000', 'nul\u0000inside', '\u200b', 'abc\u200b', '\u202eevil', '\ufeffbom', '\ud800', 'e\u0301',
  'tab\there', 'line\nbreak', '\r\n', '%', '_', '\\', "'", '"', "'; DROP TABLE app_user; --", '${jndi:x}', '{{7*7}}', 'null',
  'undefined', 'NaN', '🙂', '👩‍👩‍👧', 'Ω≈ç√', 'ß', 'İ', 'ǅ', '\u00a0', '１２３',
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.integer({ min: 10_001, max: 12_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom('é', '\u0000', '🙂', 'a\u200b').map((c) => c.repeat(3000)) },
);

/** Exactly at and one over a documented maximum length. */
export const atLength = (max: number): fc.Arbitrary<string> =>
  fc.constantFrom(max, max + 1).map((n) => 'L'.repeat(n));

export const word = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,15}$/);
export const text = fc.lorem({ maxCount: 6 });

export const randomUuid = fc.uuid();
export const malformedId = fc.constantFrom(
  'not-a-uuid', '00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '1', '-1', '0x10', '{}', 'h:1',
  '123e4567-e89b-12d3-a456-426614174000\u0000', ' 123e4567-e89b-12d3-a456-426614174000',
);

/** A kind of value in two parts: values a careful client sends, and odd or hostile ones. */
export interface ValueKind<T> {
  valid: fc.Arbitrary<T>;
  odd: fc.Arbitrary<T>;
}

/** Valid Ints include the boundaries (0, -1, 2^31-1); the odd ones are numbers GraphQL's Int refuses. */
export const int: ValueKind<number> = {
  valid: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(0, -1, 1, 2, 99, 100, 101, 1000, 2 ** 31 - 1, -(2 ** 31)) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 50 }) },
    { weight: 1, arbitrary: fc.integer() },
  ),
  odd: fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 1e308, -1e308, 0.5, Number.MAX_SAFE_INTEGER + 2),
};

export const decimal: ValueKind<string> = {
  valid: fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom('0', '0.00', '0.01', '1', '12.34', '100', '999999999.99', '1000000000.00') },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 99_999 }).map((cents) => (cents / 100).toFixed(2)) },
  ),
  odd: fc.constantFrom('1e309', '-0', '-1', '-0.01', '0.001', 'NaN', 'Infinity', '1,5', ' 1', '١٢', '1e2', '+5', '.5', '5.', '9'.repeat(40), '0x10', ''),
};

export const date: ValueKind<string> = {
  valid: fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom('2026-01-15', '2030-12-31', '1990-05-04', '1850-01-01', '9999-12-31') },
    { weight: 1, arbitrary: fc.date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)) },
  ),
  odd: fc.constantFrom('0000-01-01', '0001-01-01', '1849-12-31', '99999-12-31', '+099999-12-31', '2025-02-30', '2025-13-01', '20250101', '', 'today'),
};

export const dateTime: ValueKind<string> = {
  valid: fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom('2026-01-15T10:00:00Z', '2020-01-01T00:00:00.000Z', '2100-01-01T00:00:00+02:00') },
    { weight: 1, arbitrary: fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()) },
  ),
  odd: fc.constantFrom('0000-01-01T00:00:00Z', '+099999-01-01T00:00:00Z', '2025-13-01T00:00:00Z', '2025-01-01', '', '1e309', '9999-12-31T23:59:60Z'),
};

export const email: ValueKind<string> = {
  valid: fc.emailAddress(),
  odd: fc.constantFrom('a@b.co', 'A@B.CO', `${'x'.repeat(300)}@example.edu`, 'a\u0000@b.co', '@', 'a@b', 'a @b.co', 'ü@ü.de'),
};

/** Values of the wrong JSON type for any argument: rejected by variable coercion, never by a resolver. */
export const wrongType: fc.Arbitrary<Gen> = fc.constantFrom<Gen>(42, -1.5, true, 'text', [], {}, [1, 2], { nested: { deep: true } });

/** Cursors a client might forge: base64 of junk, of valid JSON with hostile keys, or the history codec's shape with odd numbers. */
export const FORGED_CURSORS = [
  'bm90IGpzb24', Buffer.from('{"order":"NAME:ASC","key":"\u0000","id":"x"}').toString('base64url'),
  Buffer.from('{"order":"NAME:ASC","key":"a","id":"00000000-0000-0000-0000-000000000000"}').toString('base64url'),
  Buffer.from('{"order":"EXPIRY_DATE:ASC","key":"99999-01-01","id":"00000000-0000-0000-0000-000000000000"}').toString('base64url'),
  Buffer.from('[1,2,3]').toString('base64'), Buffer.from('null').toString('base64'), 'h:1', 'h:-1', 'h:99999999999999999999', 'h:1e3', '====',
];
