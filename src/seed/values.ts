/** Formatting helpers shared by the demo and bulk generators. */

/** Money as the exact decimal string PostgreSQL stores (R7.2: never a float). */
export function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const DAY_MS = 86_400_000;

/** A calendar day as 'YYYY-MM-DD' (DATE columns), `offset` days from `from`. */
export function isoDay(from: Date, offset: number): string {
  return new Date(from.getTime() + offset * DAY_MS).toISOString().slice(0, 10);
}

/** An instant `offset` days from `from` (timestamptz columns). */
export function daysFrom(from: Date, offset: number): Date {
  return new Date(from.getTime() + offset * DAY_MS);
}

/** Everything the seed writes is attributed to this actor (created_by / updated_by). */
export const SEED_ACTOR = 'seed';
