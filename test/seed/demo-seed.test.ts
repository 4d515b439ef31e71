import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyPassword } from '../../src/auth/password';
import { generateUsers } from '../../src/seed/bulk-users';
import { seedDemoIfEmpty, SeedDemoResult } from '../../src/seed/demo-data';
import { userTableCounts } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-db';

/**
 * The demo seed `npm start` runs on an empty database, and the bulk patron
 * generator for load tests, each on a fresh migrated database.
 */
const ADMIN_PASSWORD = 'Quiet-Lantern-2719';
const N = 300;

let app: TestApp;
let dataDir: string;
let first: SeedDemoResult;
const tempDirs: string[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-seed-'));
  tempDirs.push(dir);
  return dir;
}

const quiet = () => {};

beforeAll(async () => {
  app = await startTestApp();
  dataDir = tempDir();
  first = await seedDemoIfEmpty(app.db.dataSource, { adminPassword: ADMIN_PASSWORD, dataDir, log: quiet });
});
afterAll(async () => {
  await app.close();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

const query = (sql: string, params: unknown[] = []) => app.db.dataSource.query(sql, params);

async function userCount(): Promise<number> {
  const [row] = await query(`SELECT count(*)::int AS n FROM app_user`);
  return row.n;
}

describe('seedDemoIfEmpty', () => {
  test('on an empty database it seeds, with the configured password, and creates the institution DEMO', async () => {
    expect(first).toEqual({ seeded: true, adminPassword: ADMIN_PASSWORD, passwordGenerated: false });
    expect(await query(`SELECT code FROM institution`)).toEqual([{ code: 'DEMO' }]);
  });

  test('it creates about 200 users', async () => {
    const n = await userCount();
    expect(n).toBeGreaterThanOrEqual(180);
    expect(n).toBeLessThanOrEqual(230);
  });

  test('it creates the accounts exl_impl and leganto_guest, which the API reports as protected', async () => {
    const token = await app.login('admin', ADMIN_PASSWORD);
    for (const value of ['exl_impl', 'leganto_guest']) {
      const res = await app.gql(`query($v: String!) { userByIdentifier(value: $v) { primaryIdentifier protected } }`, { v: value }, token);
      expect(res.errors).toBeUndefined();
      expect(res.data.userByIdentifier).toEqual({ primaryIdentifier: value, protected: true });
    }
  });

  test('it creates the operator admin with USER_ADMINISTRATOR at institution scope', async () => {
    const rows = await query(
      `SELECT u.record_type, u.status, r.role_type, r.scope_type, r.is_active
       FROM app_user u JOIN role_assignment r ON r.user_id = u.id
       WHERE u.primary_identifier = 'admin' AND r.role_type = 'USER_ADMINISTRATOR'`,
    );
    expect(rows).toEqual([{ record_type: 'STAFF', status: 'ACTIVE', role_type: 'USER_ADMINISTRATOR', scope_type: 'INSTITUTION', is_active: true }]);
  });

  test('admin logs in through the API with the configured password', async () => {
    const token = await app.login('admin', ADMIN_PASSWORD);
    const res = await app.gql(`{ me { primaryIdentifier roles { roleType scope { type } } } }`, {}, token);
    expect(res.data.me.primaryIdentifier).toBe('admin');
    expect(res.data.me.roles).toEqual(expect.arrayContaining([{ roleType: 'USER_ADMINISTRATOR', scope: { type: 'INSTITUTION' } }]));
  });

  test('a second call is a no-op: seeded false and every count unchanged', async () => {
    const before = { ...(await userTableCounts(app.db.dataSource)), ...(await query(`SELECT count(*)::int AS institutions FROM institution`))[0] };
    const again = await seedDemoIfEmpty(app.db.dataSource, { adminPassword: ADMIN_PASSWORD, dataDir, log: quiet });
    expect(again).toEqual({ seeded: false, passwordGenerated: false });
    const after = { ...(await userTableCounts(app.db.dataSource)), ...(await query(`SELECT count(*)::int AS institutions FROM institution`))[0] };
    expect(after).toEqual(before);
  });

  test('without a configured password it generates one and writes it to <dataDir>/admin-password.txt with mode 0600', async () => {
    let db: TestDatabase | undefined;
    try {
      db = await createTestDatabase();
      const dir = path.join(tempDir(), 'data'); // not there yet: the seed creates it
      const result = await seedDemoIfEmpty(db.dataSource, { dataDir: dir, log: quiet });
      expect(result.seeded).toBe(true);
      expect(result.passwordGenerated).toBe(true);
      const file = path.join(dir, 'admin-password.txt');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(file, 'utf8')).toBe(`${result.adminPassword}\n`);
      const [admin] = await db.dataSource.query(`SELECT password_hash FROM app_user WHERE primary_identifier = 'admin'`);
      expect(await verifyPassword(admin.password_hash, result.adminPassword!)).toBe(true);
    } finally {
      await db?.drop();
    }
  });
});

describe('generateUsers', () => {
  async function userIds(): Promise<string[]> {
    return (await query(`SELECT id FROM app_user`)).map((r: { id: string }) => r.id);
  }

  /** The users not in `known`, each with its primary identifier and how many barcodes and emails it has. */
  async function newUsers(known: string[]) {
    return (await query(
      `SELECT u.primary_identifier,
              (SELECT count(*)::int FROM user_identifier i WHERE i.user_id = u.id AND i.id_type = 'BARCODE') AS barcodes,
              (SELECT count(*)::int FROM user_email e WHERE e.user_id = u.id) AS emails
       FROM app_user u WHERE u.id <> ALL($1::uuid[])`,
      [known],
    )) as { primary_identifier: string | null; barcodes: number; emails: number }[];
  }

  /** Identifier values used twice, compared as the clash trigger compares them (case-insensitively, across both tables). */
  async function clashingIdentifiers(): Promise<string[]> {
    const rows = await query(
      `SELECT v FROM (SELECT lower(primary_identifier) AS v FROM app_user WHERE primary_identifier IS NOT NULL
                      UNION ALL SELECT lower(value) FROM user_identifier) AS all_values
       GROUP BY v HAVING count(*) > 1`,
    );
    return rows.map((r: { v: string }) => r.v);
  }

  let afterFirstRun: string[];

  test(`adds exactly ${N} users, each with a primary identifier, a barcode and an email`, async () => {
    const before = await userIds();
    const result = await generateUsers(app.db.dataSource, { institutionCode: 'DEMO', count: N, seed: 1 });
    expect(result.inserted).toBe(N);
    const added = await newUsers(before);
    expect(added).toHaveLength(N);
    for (const u of added) {
      expect(u.primary_identifier).toBeTruthy();
      expect(u.barcodes).toBe(1);
      expect(u.emails).toBeGreaterThanOrEqual(1);
    }
    afterFirstRun = await userIds();
  });

  test(`a second run adds ${N} more users and no identifier value clashes with an earlier one`, async () => {
    // The same PRNG seed: names repeat, so only the per-run tag keeps identifiers apart.
    const result = await generateUsers(app.db.dataSource, { institutionCode: 'DEMO', count: N, seed: 1 });
    expect(result.inserted).toBe(N);
    expect(await newUsers(afterFirstRun)).toHaveLength(N);
    expect(await userCount()).toBe(afterFirstRun.length + N);
    expect(await clashingIdentifiers()).toEqual([]);
  });
});
