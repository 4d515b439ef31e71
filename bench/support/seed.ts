import { performance } from 'node:perf_hooks';
import type { Database } from '../../src/db/connect';
import { generateUsers } from '../../src/seed/bulk-users';
import { seedDemoIfEmpty } from '../../src/seed/demo-data';
import { DEMO_INSTITUTION_CODE } from '../../src/seed/demo-reference';

const quiet = () => {};

/** The demo institution, then generated patrons up to `total` users; VACUUM ANALYZE as autovacuum would do in time. */
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
  const generated = await generateUsers(db, { institutionCode: DEMO_INSTITUTION_CODE, count: Math.max(0, total - n), seed: 20_260_101 });
  const t2 = performance.now();
  await db.query('VACUUM ANALYZE');
  const t3 = performance.now();
  const [counts] = await db.query(
    `SELECT (SELECT count(*) FROM app_user)::int AS users, (SELECT count(*) FROM user_block)::int AS blocks, (SELECT count(*) FROM fine_fee)::int AS fines`,
  );
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return `seeded ${counts.users} users (${n} demo + ${generated.inserted} generated), ${counts.blocks} blocks, ${counts.fines} fines in ${s(t3 - t0)}`
    + ` (demo ${s(t1 - t0)}, generateUsers ${s(t2 - t1)}, VACUUM ANALYZE ${s(t3 - t2)})`;
}
