import DataLoader from 'dataloader';

/**
 * Batches "children of each parent" lookups into one statement per request
 * tick: `load` gets every requested parent id at once and returns the rows.
 */
export function groupedLoader<T>(load: (ids: string[]) => Promise<T[]>, parentId: (row: T) => string): DataLoader<string, T[]> {
  return new DataLoader<string, T[]>(async (ids) => {
    const groups = new Map<string, T[]>();
    for (const row of await load([...ids])) {
      const key = parentId(row);
      const group = groups.get(key);
      if (group) group.push(row);
      else groups.set(key, [row]);
    }
    return ids.map((id) => groups.get(id) ?? []);
  });
}

/** Batches lookups by primary key; a missing row loads as null. */
export function byIdLoader<T extends { id: string }>(load: (ids: string[]) => Promise<T[]>): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = new Map((await load([...ids])).map((row) => [row.id, row]));
    return ids.map((id) => rows.get(id) ?? null);
  });
}

/** Batches one aggregate row per key; a key with no row gets `empty(key)`. */
export function keyedLoader<T>(load: (ids: string[]) => Promise<T[]>, keyOf: (row: T) => string, empty: (key: string) => T): DataLoader<string, T> {
  return new DataLoader<string, T>(async (ids) => {
    const rows = new Map((await load([...ids])).map((row) => [keyOf(row), row]));
    return ids.map((id) => rows.get(id) ?? empty(id));
  });
}
