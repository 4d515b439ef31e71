import { badInput } from '../common/errors';

/**
 * The bounds of a grouped aggregate (userCounts, fineTotals): at most MAX_DIMENSIONS dimensions, each once, and at most
 * MAX_GROUP_ROWS rows. The SDL bounds the list too (`@limit(maxItems: 3)`); the cost limit counts each dimension.
 */
export const MAX_DIMENSIONS = 3;
export const MAX_GROUP_ROWS = 10_000;

/** What a repository reads to tell a result of too many rows: one more than MAX_GROUP_ROWS. */
export const GROUP_ROWS_READ = MAX_GROUP_ROWS + 1;

/** Refuses more than MAX_DIMENSIONS dimensions or one named twice, as BAD_USER_INPUT naming `groupBy`. */
export function checkGroupBy(groupBy: readonly string[]): void {
  if (groupBy.length > MAX_DIMENSIONS) {
    throw badInput('groupBy', `Group by at most ${MAX_DIMENSIONS} dimensions (${groupBy.length} given)`, { limit: MAX_DIMENSIONS });
  }
  const repeated = groupBy.find((d, i) => groupBy.indexOf(d) !== i);
  if (repeated) throw badInput('groupBy', `${repeated} is named twice in groupBy; name each dimension once`);
}

/** The rows, or a BAD_USER_INPUT naming `groupBy` when there are more than MAX_GROUP_ROWS (read GROUP_ROWS_READ to know). */
export function withinGroupRows<T>(rows: T[]): T[] {
  if (rows.length > MAX_GROUP_ROWS) {
    throw badInput('groupBy', `The grouping has more than ${MAX_GROUP_ROWS} rows: group by fewer dimensions or narrow the filter`, { limit: MAX_GROUP_ROWS });
  }
  return rows;
}
