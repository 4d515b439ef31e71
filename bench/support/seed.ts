import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import type { Database } from '../../src/db/connect';
import { generateUsers } from '../../src/seed/bulk-users';
import { seedDemoIfEmpty } from '../../src/seed/demo-data';
import { DEMO_INSTITUTION_CODE } from '../../src/seed/demo-reference';
import { openOwnConnection } from '../../src/db/own-connection';
import { foldUserCounts } from '../../src/users/user-counts.repository';

const quiet = () => {};

/** The demo institution, then generated patrons up to `total` users; the counters folded and VACUUM ANALYZE, as the server and autovacuum would do in time. */
export async function seedUsers(database: Database, total: number, password: string, dataDir: string): Promise<string> {
  const db = database.dataSource;
  const t0 = performance.now();
  await seedDemoIfEmpty(db, { adminPassword: password, dataDir, log: quiet });
  // Without statistics on the freshly seeded tables generateUsers turns quadratic: batches of 2,000 users took
  // 2.7 s, 4.8 s, 7.0 s, 9.3 s ... (12.9 million app_user index tuple fetches for 4,000 users), and a flat 0.4 s
  // after ANALYZE (77 thousand fetches); most likely a statement of the insert path (the identifier-clash trigger?)
  // planned without statistics.
  await db.query('ANALYZE');
  const t1 = performance.now();
  const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM app_user`);
  const generated = await generateInParallel(db, Math.max(0, total - n));
  const t2 = performance.now();
  // The counters' deltas folded and the dead rows vacuumed, as the server's compaction and autovacuum would do in
  // time: unfolded, a million users left about 700,000 delta rows, which every counted totalCount summed.
  const client = await openOwnConnection(db, 'carrel-bench-seed');
  try {
    await foldUserCounts(client);
  } finally {
    await client.end();
  }
  await db.query('VACUUM ANALYZE');
  const t3 = performance.now();
  const [counts] = await db.query(
    `SELECT (SELECT count(*) FROM app_user)::int AS users, (SELECT count(*) FROM user_block)::int AS blocks, (SELECT count(*) FROM fine_fee)::int AS fines`,
  );
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return `seeded ${counts.users} users (${n} demo + ${generated.inserted} generated), ${counts.blocks} blocks, ${counts.fines} fines in ${s(t3 - t0)}`
    + ` (demo ${s(t1 - t0)}, generateUsers ${s(t2 - t1)} on ${generated.workers} connection(s), counters folded and VACUUM ANALYZE ${s(t3 - t2)})`;
}

/**
 * PostgreSQL does most of generateUsers' work (per-row identifier-clash triggers, index updates), one backend per
 * call: one call seeded a million users in about 257 s here, so the count is split over WORKERS concurrent calls, each with its
 * own PRNG seed. Each transaction holds two advisory locks per user until it commits (the clash trigger), in a shared
 * lock table of about 64 x max_connections entries, hence the smaller batches: WORKERS x BATCH x 2 stays below it.
 * A later call starts once the first has committed a batch, so its run tag (picked among the committed ones) differs.
 */
const WORKERS = 2;
const BATCH = 1000;

async function generateInParallel(db: DataSource, count: number): Promise<{ inserted: number; workers: number }> {
  if (count === 0) return { inserted: 0, workers: 0 };
  const workers = Math.min(WORKERS, Math.ceil(count / BATCH));
  const share = (w: number) => Math.floor(count / workers) + (w < count % workers ? 1 : 0);
  let firstBatch!: () => void;
  const firstCommitted = new Promise<void>((resolve) => (firstBatch = resolve));
  const runs = Array.from({ length: workers }, async (_, w) => {
    if (w > 0) await firstCommitted;
    const { inserted } = await generateUsers(db, {
      institutionCode: DEMO_INSTITUTION_CODE, count: share(w), batchSize: BATCH, seed: 20_260_101 + w,
      onProgress: w === 0 ? () => firstBatch() : undefined,
    });
    return inserted;
  });
  return { inserted: (await Promise.all(runs)).reduce((a, b) => a + b, 0), workers };
}
