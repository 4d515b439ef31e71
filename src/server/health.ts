import type { Express } from 'express';
import type { DataSource } from 'typeorm';
import { allowMethods } from './http-errors';

/**
 * Health for load balancers and orchestrators:
 * - `/health/live`: the process answers (restart it when this fails); touches nothing else, so a database outage
 *   never makes every instance restart at once;
 * - `/health/ready`: the database answers and has every migration this code needs (send traffic only then);
 * - `/health`: the same as ready, kept for the monitors set up before the split.
 */
export function mountHealth(app: Express, db: DataSource): void {
  const migrationsCurrent = migrationCheck(db);
  app.all('/health/live', allowMethods('GET', 'HEAD'), (_req, res) => {
    res.json({ status: 'ok' });
  });
  const ready = async (_req: unknown, res: import('express').Response) => {
    let database: 'ok' | 'unreachable' = 'ok';
    let migrations: 'current' | 'pending' | 'unknown' = 'unknown';
    try {
      migrations = (await migrationsCurrent()) ? 'current' : 'pending';
    } catch {
      database = 'unreachable';
    }
    const ok = database === 'ok' && migrations === 'current';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', database, migrations });
  };
  app.all('/health/ready', allowMethods('GET', 'HEAD'), ready);
  app.all('/health', allowMethods('GET', 'HEAD'), ready);
}

/**
 * Whether every migration of this code is applied. Once true it stays true (migrations are never taken back), and
 * the check becomes the `SELECT 1` that proves the database still answers.
 */
/** How long a ready answer stands: a load balancer learns that an instance lost its database within a second. */
const READY_KEPT_MS = 1000;

function migrationCheck(db: DataSource): () => Promise<boolean> {
  const needed = db.migrations.map((m) => m.name).filter((name): name is string => name !== undefined);
  let current = false;
  const check = async () => {
    if (current) {
      await db.query('SELECT 1');
      return true;
    }
    const rows: { name: string }[] = await db.query('SELECT name FROM migrations');
    const applied = new Set(rows.map((r) => r.name));
    current = needed.every((name) => applied.has(name));
    return current;
  };
  // Anyone may ask, without credentials or budget: a ready answer is kept for READY_KEPT_MS, and probes arriving while
  // a check runs share it, so a flood of probes costs the database about one statement a second. A not-ready answer
  // is not kept: the instance is let back in at the first probe after it recovers.
  let running: Promise<boolean> | null = null;
  let readyAt = -Infinity;
  return async () => {
    if (Date.now() - readyAt < READY_KEPT_MS) return true;
    running ??= check().finally(() => (running = null));
    const ready = await running;
    if (ready) readyAt = Date.now();
    return ready;
  };
}
