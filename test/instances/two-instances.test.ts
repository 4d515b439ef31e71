import type { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { migrations } from '../../src/db/migrations';
import { CarrelProcess, carrelEnv, createEmptyDatabase, MAIN_FROM_SOURCE, startCarrel } from '../support/carrel-process';
import { createInstitution, createPerson, PASSWORD } from '../support/fixtures';
import { postGraphQL } from '../support/test-app';

/**
 * Issue 15 item 5: two Carrel processes started at the same moment on one brand-new, empty database (as a deployment
 * of two instances behind a load balancer starts), sharing a token secret. One pair of processes for the whole file:
 * each costs a second of CPU to start.
 */
const SECRET = 'two-instances-test-secret-of-at-least-32-bytes';
const READY_TIMEOUT_MS = 90_000;
jest.setTimeout(180_000);

let database: Awaited<ReturnType<typeof createEmptyDatabase>>;
let dataSource: DataSource;
let instances: { process: CarrelProcess; url: string }[] = [];

const ME = `{ me { primaryIdentifier } }`;
const LOGIN = `mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }`;
const PURGE = `mutation($dry: Boolean!) { runPurgeJob(dryRun: $dry) { purged skipped } }`;

beforeAll(async () => {
  database = await createEmptyDatabase('carrel_two_instances');
  const env = carrelEnv({ DATABASE_URL: database.url, PORT: '0', CARREL_TOKEN_SECRET: SECRET, CARREL_SEED_DEMO: 'false' });
  const started = [startCarrel(MAIN_FROM_SOURCE, env), startCarrel(MAIN_FROM_SOURCE, env)];
  try {
    const ports = await Promise.all(started.map((p) => p.waitForEndpoint(READY_TIMEOUT_MS)));
    instances = started.map((process, i) => ({ process, url: `http://127.0.0.1:${ports[i]}/graphql` }));
  } catch (e) {
    await Promise.all(started.map((p) => p.kill()));
    throw e;
  }
  dataSource = createDataSource(database.url, { poolSize: 2 });
  await dataSource.initialize();
});
afterAll(async () => {
  await Promise.all(instances.map((i) => i.process.kill()));
  if (dataSource?.isInitialized) await dataSource.destroy();
  await database?.drop();
});

test('15.5 two instances started together on an empty database apply each migration exactly once between them', async () => {
  const lines = instances.flatMap((i) => i.process.output().match(/applied migration \w+/g) ?? []);
  expect(lines.sort()).toEqual(migrations.map((m) => `applied migration ${new m().name}`).sort());
  // The one that did not migrate waited for the other's lock, or came after it: either way it found nothing pending.
  expect(instances.filter((i) => /migrations current/.test(i.process.output()))).toHaveLength(1);
  const recorded: { name: string; n: number }[] = await dataSource.query(`SELECT name, count(*)::int AS n FROM migrations GROUP BY name`);
  expect(recorded).toHaveLength(migrations.length);
  expect(recorded.every((r) => r.n === 1)).toBe(true);
});

test('15.5 both instances serve, and a token one of them signs at login is accepted by the other (one shared secret)', async () => {
  const inst = await createInstitution(dataSource, 'TWO');
  await createPerson(dataSource, inst, { primaryIdentifier: 'um_two', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const [a, b] = instances;
  const login = await postGraphQL(a.url, LOGIN, { i: 'um_two', p: PASSWORD });
  expect(login.errors).toBeUndefined();
  const token = login.data.login.token;
  for (const instance of [a, b]) {
    expect(await postGraphQL(instance.url, ME, {}, token)).toEqual({ data: { me: { primaryIdentifier: 'um_two' } } });
  }
});

test('15.5 the periodic jobs of both instances run under leases an operator can read in job_lease', async () => {
  // Each job's first run is a second after its instance started; each leaves its lease's row behind.
  const jobs = ['events:prune', 'fold:fine_action_total_delta', 'fold:fine_total_delta', 'fold:user_count_delta', 'webhooks:prune-delivery-log'];
  const rows = await waitFor(
    (): Promise<{ name: string; owner: string }[]> => dataSource.query(`SELECT name, owner FROM job_lease ORDER BY name`),
    (found) => found.length === jobs.length,
  );
  expect(rows.map((r) => r.name)).toEqual(jobs);
  const pids = instances.map((i) => i.process.child.pid);
  for (const row of rows) expect(pids).toContain(Number(row.owner.split(':')[1]));
});

test('15.5 the purge job started on both instances at once runs once: the other is refused with CONFLICT, and a dry run meanwhile is not', async () => {
  const inst = await createInstitution(dataSource, 'PURGE2');
  await createPerson(dataSource, inst, { primaryIdentifier: 'um_purge2', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await dataSource.query(
    `INSERT INTO app_user (institution_id, record_type, account_type, primary_identifier, first_name, last_name, purge_date, created_by, updated_by)
     SELECT $1, 'PUBLIC', 'INTERNAL', 'due' || g, 'Due', 'User ' || g, current_date - 1 - g % 30, 'test', 'test' FROM generate_series(1, 1500) g`,
    [inst.id]);
  const [a, b] = instances;
  const token = (await postGraphQL(a.url, LOGIN, { i: 'um_purge2', p: PASSWORD })).data.login.token;
  const runs = Promise.all([postGraphQL(a.url, PURGE, { dry: false }, token), postGraphQL(b.url, PURGE, { dry: false }, token)]);
  // While a run holds the lease (it takes seconds for 1,500 users), a dry run still answers.
  const held = await waitFor(() => dataSource.query(`SELECT 1 FROM job_lease WHERE name = $1 AND lease_until > now()`, [`purge:${inst.id}`]));
  expect(held).toHaveLength(1);
  const dry = await postGraphQL(b.url, PURGE, { dry: true }, token);
  expect(dry.errors).toBeUndefined();
  const results = await runs;
  const done = results.filter((r) => !r.errors);
  const refused = results.filter((r) => r.errors);
  expect(done.map((r) => r.data.runPurgeJob)).toEqual([{ purged: 1500, skipped: 0 }]);
  expect(refused).toHaveLength(1);
  expect(refused[0].errors![0]).toMatchObject({ message: expect.stringMatching(/already running/), extensions: { code: 'CONFLICT' } });
  const [purges] = await dataSource.query(
    `SELECT count(*)::int AS entries, count(DISTINCT user_id)::int AS users FROM history_entry WHERE institution_id = $1 AND new_value = 'purged'`, [inst.id]);
  expect(purges).toEqual({ entries: 1500, users: 1500 });
});

/** Polls `read` every 20 ms until `done` says its rows will do (by default: any row), 10 s at most; answers the last rows read. */
async function waitFor<T>(read: () => Promise<T[]>, done = (rows: T[]) => rows.length > 0): Promise<T[]> {
  let rows = await read();
  for (let i = 0; i < 500 && !done(rows); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    rows = await read();
  }
  return rows;
}
