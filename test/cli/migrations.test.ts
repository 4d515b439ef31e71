import { migrations } from '../../src/db/migrations';
import { Client } from 'pg';
import { createEmptyDatabase } from '../support/carrel-process';
import { runCarrel } from './run-carrel-cli';

/**
 * `npm run carrel -- migrations` and `migrate` (issue 15 item 8) on a database with nothing in it, as a real process:
 * the check lists without applying, the apply applies.
 */

const NAMES = migrations.map((m) => m.name);

let db: Awaited<ReturnType<typeof createEmptyDatabase>>;
const carrel = (args: string[]) => runCarrel(args, { DATABASE_URL: db.url, CARREL_DATA_DIR: '/nonexistent' });
const tables = async () => Number((await queryDb(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`))[0].n);

/** SQL on this file's database. */
async function queryDb(sql: string): Promise<any[]> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  db = await createEmptyDatabase('carrel_cli_migrations');
});
afterAll(() => db.drop());

test('15.8 on an empty database, migrations lists every migration as pending, applies none and exits 1', async () => {
  const run = await carrel(['migrations']);
  for (const name of NAMES) expect(run.stdout).toContain(`pending  ${name}`);
  expect(run.stdout).toContain(`${NAMES.length} migrations pending`);
  expect(run.code).toBe(1);
  expect(await tables()).toBe(0);
});

test('15.8 migrate applies them, and migrations then lists them all as applied and exits 0', async () => {
  const applied = await carrel(['migrate']);
  expect(applied.stdout).toMatch(/migrations are up to date on /);
  expect(applied.code).toBe(0);
  const run = await carrel(['migrations']);
  for (const name of NAMES) expect(run.stdout).toContain(`applied  ${name}`);
  expect(run.stdout).toContain(`current: ${NAMES.length} migrations applied, none pending`);
  expect(run.code).toBe(0);
});

test('15.8 a migration applied by a newer Carrel, unknown to this one, makes migrations exit 1', async () => {
  await queryDb(`INSERT INTO migrations ("timestamp", name) VALUES (9999999999999, 'FromTheFuture9999999999999')`);
  try {
    const run = await carrel(['migrations']);
    expect(run.stdout).toContain('applied  FromTheFuture9999999999999  (unknown to this version)');
    expect(run.stdout).toContain('1 migration applied by a newer version of Carrel');
    expect(run.code).toBe(1);
  } finally {
    await queryDb(`DELETE FROM migrations WHERE name = 'FromTheFuture9999999999999'`);
  }
});

test('15.8 migrations takes no argument: exit 2 with the usage', async () => {
  const run = await carrel(['migrations', '--apply']);
  expect(run.stderr).toMatch(/unknown argument "--apply"\nusage: npm run carrel -- migrations/);
  expect(run.code).toBe(2);
});
