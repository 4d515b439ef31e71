import { badInput } from './errors';

/** The page size a connection's `first` asks for, refused as BAD_USER_INPUT outside 1..max. */
export function pageSize(first: number | null | undefined, max: number, fallback = 20): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > max) throw badInput('first', `first must be between 1 and ${max}`, { limit: max });
  return size;
}

/** A Relay page of `first` rows, from `rows` read with one extra row that tells whether another page follows. */
export function connectionOf<T>(rows: T[], first: number, cursorOf: (row: T) => string) {
  const edges = rows.slice(0, first).map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}
