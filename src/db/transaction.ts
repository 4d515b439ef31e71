import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { conflict } from '../common/errors';

/**
 * Runs `work` in one transaction. A unique violation that slipped past the
 * service's own checks (a concurrent request took the value first) becomes a
 * CONFLICT naming the value instead of a raw database error.
 */
export async function inTransaction<T>(db: DataSource, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  try {
    return await db.transaction(work);
  } catch (e) {
    throw translateDbError(e);
  }
}

export function translateDbError(e: unknown): unknown {
  if (!(e instanceof QueryFailedError)) return e;
  const pg = e.driverError as { code?: string; detail?: string; message?: string };
  if (pg.code === '23505') {
    // "Key (institution_id, value)=(…, B123) already exists." or our trigger's "identifier B123 is already in use"
    const value = /\)=\([^,]*, (.*)\) already exists/.exec(pg.detail ?? '')?.[1] ?? /identifier (.*) is already in use/.exec(pg.message ?? '')?.[1];
    return conflict(value ? `"${value}" is already in use` : 'A unique value is already in use', value ? { value } : {});
  }
  return e;
}
