import type { DataSource } from 'typeorm';
import { scheduleDeltaFold } from '../../src/db/delta-fold';
import { withLease } from '../../src/db/job-lease';
import { createTestDatabase, TestDatabase } from '../support/test-db';

/**
 * Issue 15 item 5: with several instances on one database, a named job runs on one of them at a time, through a lease
 * row (src/db/job-lease.ts). "Another instance" here is another holder: each withLease is a holder of its own, as
 * each run in another process would be.
 */

let database: TestDatabase;
const db = (): DataSource => database.dataSource;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let serial = 0;
/** A lease name of each test's own. */
const fresh = () => `test-job-${++serial}`;

/** Writes the row another instance (which may since have died) would have left. */
const heldElsewhere = (name: string, untilSql: string) => db().query(
  `INSERT INTO job_lease (name, owner, taken_at, lease_until) VALUES ($1, 'other-host:4242:cafe', now() - interval '1 hour', ${untilSql})
   ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, taken_at = EXCLUDED.taken_at, lease_until = EXCLUDED.lease_until`, [name]);

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database?.drop());

test('15.5 five holders asking for one lease at once: exactly one runs its work, the others are told who holds it', async () => {
  const name = fresh();
  let running = 0;
  let most = 0;
  const work = async () => {
    most = Math.max(most, ++running);
    await pause(300);
    running -= 1;
    return 'done';
  };
  const outcomes = await Promise.all([1, 2, 3, 4, 5].map(() => withLease(db(), name, 10_000, work)));
  const ran = outcomes.filter((o) => o.ran);
  expect(ran).toEqual([{ ran: true, result: 'done' }]);
  expect(most).toBe(1);
  for (const refused of outcomes.filter((o) => !o.ran)) {
    expect(refused).toMatchObject({ ran: false, holder: { owner: expect.stringMatching(new RegExp(`:${process.pid}:[0-9a-f]{8}$`)) } });
  }
});

test('15.5 a lease still ahead is respected; once it has lapsed (its holder died) the next holder takes the job over', async () => {
  const name = fresh();
  await heldElsewhere(name, `now() + interval '1 hour'`);
  const refused = await withLease(db(), name, 10_000, async () => 'ran');
  expect(refused).toMatchObject({ ran: false, holder: { owner: 'other-host:4242:cafe' } });
  await heldElsewhere(name, `now() - interval '1 second'`);
  let ownerWhileRunning = '';
  const taken = await withLease(db(), name, 10_000, async () => {
    [{ owner: ownerWhileRunning }] = await db().query(`SELECT owner FROM job_lease WHERE name = $1 AND lease_until > now()`, [name]);
    return 'ran';
  });
  expect(taken).toEqual({ ran: true, result: 'ran' });
  expect(ownerWhileRunning).toMatch(new RegExp(`:${process.pid}:`));
});

test('15.5 a holder renews its lease while it works, so a run longer than the lease is never joined; released at its end, the job is free at once', async () => {
  const name = fresh();
  // A lease of 1 s renewed every third of it, and a run of 3 s: asked again after 2 s, the first lease would have
  // lapsed twice over without its renewals. (Longer than the bare minimum: a loaded CI machine delays timers.)
  const long = withLease(db(), name, 1000, async () => {
    await pause(3000);
    return 'long';
  });
  await pause(2000);
  expect(await withLease(db(), name, 1000, async () => 'second')).toMatchObject({ ran: false });
  expect(await long).toEqual({ ran: true, result: 'long' });
  expect(await withLease(db(), name, 1000, async () => 'next')).toEqual({ ran: true, result: 'next' });
  const [row] = await db().query(`SELECT lease_until <= now() AS free FROM job_lease WHERE name = $1`, [name]);
  expect(row.free).toBe(true);
});

test('15.5 a holder whose lapsed lease another instance took over is told so through its signal, and cannot take it back', async () => {
  const name = fresh();
  const outcome = withLease(db(), name, 300, (lost) => new Promise<string>((resolve) => {
    lost.addEventListener('abort', () => resolve(String((lost.reason as Error).message)));
  }));
  // Once this holder has the lease (waited for, not timed: a loaded machine is slow to connect).
  while ((await db().query(`SELECT 1 FROM job_lease WHERE name = $1 AND owner LIKE $2`, [name, `%:${process.pid}:%`])).length === 0) await pause(20);
  // As if this holder had frozen past its lease and another instance had taken the job.
  await heldElsewhere(name, `now() + interval '1 hour'`);
  expect(await outcome).toEqual({ ran: true, result: expect.stringMatching(/lease of job .* was lost: another instance took it over/) });
  const [row] = await db().query(`SELECT owner, lease_until > now() AS held FROM job_lease WHERE name = $1`, [name]);
  expect(row).toEqual({ owner: 'other-host:4242:cafe', held: true });
});

test('15.5 a scheduled delta fold skips its ticks while another instance holds the table\'s lease, and folds once it is free', async () => {
  const table = `test_${serial}_delta`;
  await heldElsewhere(`fold:${table}`, `now() + interval '1 hour'`);
  let folds = 0;
  const compact = async () => {
    folds += 1;
    return { folded: 0, kept: 0 };
  };
  const stop = scheduleDeltaFold(db(), { table, compact }, 'test counter', 300, () => {});
  try {
    await pause(1800);
    expect(folds).toBe(0);
    await heldElsewhere(`fold:${table}`, `now() - interval '1 second'`);
    await pause(800);
    expect(folds).toBeGreaterThan(0);
  } finally {
    stop();
  }
});
