import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createEmptyDatabase } from '../support/carrel-process';
import { createInstitution } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { runCarrel } from './run-carrel-cli';

/**
 * `npm run carrel -- create-admin` (issue 15 item 8): the first administrator of a database without operators, run as
 * a real process against this file's database (migrated, empty: what a production start leaves without the demo),
 * observed through its output, its exit code, the database and a sign-in over the API.
 */

const PASSWORD = 'a long enough secret 42';
const ADMIN = ['--identifier', 'head.librarian', '--first-name', 'Ada', '--last-name', 'Lovelace', '--email', 'ada@uni.example'];
const NEW_INSTITUTION = ['--institution', 'UNI', '--institution-name', 'University Library'];

let app: TestApp;
let dataDir: string;
const db = (): DataSource => app.db.dataSource;
const vars = (extra: Record<string, string> = {}) => ({ DATABASE_URL: app.db.url, CARREL_DATA_DIR: dataDir, ...extra });
const createAdmin = (args: string[], stdin = `${PASSWORD}\n`, extra: Record<string, string> = {}) => runCarrel(['create-admin', ...args], vars(extra), stdin);
const count = async (table: string) => Number((await db().query(`SELECT count(*)::int AS n FROM ${table}`))[0].n);

beforeAll(async () => {
  app = await startTestApp({ jobs: false });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-create-admin-'));
});
afterAll(async () => {
  await app.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('refused before anything is written', () => {
  afterEach(async () => {
    expect(await count('institution')).toBe(0);
    expect(await count('app_user')).toBe(0);
  });

  test.each([
    ['shorter than 8 characters', 'short1', /the password: The password must have at least 8 characters/],
    ['containing the identifier', 'my HEAD.LIBRARIAN pass', /the password: The password must not contain the primary identifier/],
    ['holding a NUL byte', 'nul\u0000byte password', /the password contains a control character \(U\+0000\)/],
  ])('15.8 a password %s is refused (the password rules, the input rules), exit 1', async (_rule, password, reason) => {
    const run = await createAdmin([...ADMIN, ...NEW_INSTITUTION], `${password}\n`);
    expect(run.stderr).toMatch(/^carrel create-admin failed: /m);
    expect(run.stderr).toMatch(reason);
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).not.toContain(password);
  });

  test.each([
    ['an invisible character', 'head\u200blibrarian', /--identifier contains an invisible formatting character \(U\+200B\)/],
    ['a control character', 'head\u0001librarian', /--identifier contains a control character \(U\+0001\)/],
    ['256 characters', 'x'.repeat(256), /--identifier is 256 characters long: at most 255 are allowed/],
    ['the name of a protected vendor account', 'exl_admin', /protected vendor account/],
  ])('15.8 an identifier with %s is refused, exit 1', async (_what, identifier, reason) => {
    const run = await createAdmin(['--identifier', identifier, '--first-name', 'Ada', '--last-name', 'Lovelace', '--email', 'ada@uni.example', ...NEW_INSTITUTION]);
    expect(run.stderr).toMatch(reason);
    expect(run.code).toBe(1);
  });

  test('15.8 without a piped password or CARREL_ADMIN_PASSWORD it is refused, exit 1', async () => {
    const run = await createAdmin([...ADMIN, ...NEW_INSTITUTION], '');
    expect(run.stderr).toMatch(/carrel create-admin failed: no password: pipe it as one line to standard input/);
    expect(run.code).toBe(1);
  });

  test('15.8 a password is never taken from the arguments: --password is an unknown argument, exit 2 with the usage', async () => {
    const run = await createAdmin([...ADMIN, ...NEW_INSTITUTION, '--password', PASSWORD]);
    expect(run.stderr).toMatch(/unknown argument "--password"\nusage: npm run carrel -- create-admin/);
    expect(run.code).toBe(2);
  });

  test('15.8 a missing required option exits 2 with the usage', async () => {
    const run = await createAdmin(['--first-name', 'Ada', '--last-name', 'Lovelace', ...NEW_INSTITUTION]);
    expect(run.stderr).toMatch(/--identifier is required\nusage: npm run carrel -- create-admin/);
    expect(run.code).toBe(2);
  });

  test('15.8 an empty database needs the new institution\'s code and name, exit 1', async () => {
    const run = await createAdmin(ADMIN);
    expect(run.stderr).toMatch(/the database holds no institution: give --institution CODE and --institution-name NAME/);
    expect(run.code).toBe(1);
  });
});

describe('the first administrator', () => {
  let run: Awaited<ReturnType<typeof createAdmin>>;
  beforeAll(async () => {
    run = await createAdmin([...ADMIN, ...NEW_INSTITUTION]);
  });

  test('15.8 create-admin creates the institution and an administrator who signs in with the piped password', async () => {
    expect(run.stdout).toMatch(/created institution UNI \(University Library\)/);
    expect(run.stdout).toMatch(/created administrator head\.librarian \(user [0-9a-f-]{36}\) in institution UNI, holding USER_ADMINISTRATOR@INSTITUTION, GENERAL_SYSTEM_ADMINISTRATOR@INSTITUTION/);
    expect(run.code).toBe(0);
    const token = await app.login('head.librarian', PASSWORD);
    const me = await app.gql(`{ me { primaryIdentifier recordType roles { roleType } } }`, {}, token);
    expect(me.data.me.recordType).toBe('STAFF');
    expect(me.data.me.roles.map((r: { roleType: string }) => r.roleType).sort()).toEqual(['GENERAL_SYSTEM_ADMINISTRATOR', 'PATRON', 'USER_ADMINISTRATOR']);
  });

  test('15.8 the password appears nowhere in the output', () => {
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  });

  test('15.8 the creation is recorded in history and as events, attributed to cli:create-admin', async () => {
    const history = await db().query(`SELECT field, new_value, changed_by FROM history_entry ORDER BY changed_at, new_value`);
    expect(history).toEqual(expect.arrayContaining([
      { field: 'record', new_value: 'created', changed_by: 'cli:create-admin' },
      { field: 'roles', new_value: 'USER_ADMINISTRATOR@INSTITUTION', changed_by: 'cli:create-admin' },
      { field: 'roles', new_value: 'GENERAL_SYSTEM_ADMINISTRATOR@INSTITUTION', changed_by: 'cli:create-admin' },
    ]));
    const events = await db().query(`SELECT event_type, actor FROM event_outbox ORDER BY id`);
    expect(events).toEqual([
      { event_type: 'USER_CREATED', actor: 'cli:create-admin' },
      { event_type: 'ROLE_ASSIGNED', actor: 'cli:create-admin' },
      { event_type: 'ROLE_ASSIGNED', actor: 'cli:create-admin' },
    ]);
  });

  test('15.8 a second create-admin in the institution is refused, exit 1, and creates nobody', async () => {
    const users = await count('app_user');
    const again = await createAdmin(['--identifier', 'second.admin', '--first-name', 'Bo', '--last-name', 'Second', '--email', 'bo@uni.example']);
    expect(again.stderr).toMatch(/carrel create-admin failed: institution UNI has a staff operator already \(head\.librarian\): create-admin makes the first one only/);
    expect(again.code).toBe(1);
    expect(await count('app_user')).toBe(users);
  });
});

describe('an institution that exists without operators', () => {
  beforeAll(async () => {
    await createInstitution(db(), 'BRANCH');
  });

  test('15.8 with several institutions, --institution is required, exit 1 naming them', async () => {
    const run = await createAdmin(['--identifier', 'branch.admin', '--first-name', 'Cy', '--last-name', 'Branch', '--email', 'cy@branch.example']);
    expect(run.stderr).toMatch(/several institutions \(BRANCH, UNI\): choose one with --institution CODE/);
    expect(run.code).toBe(1);
  });

  test('15.8 --institution-name is refused for an institution that exists', async () => {
    const run = await createAdmin(['--identifier', 'branch.admin', '--first-name', 'Cy', '--last-name', 'Branch', '--email', 'cy@branch.example',
      '--institution', 'BRANCH', '--institution-name', 'Renamed']);
    expect(run.stderr).toMatch(/institution BRANCH exists already: --institution-name is only for creating one/);
    expect(run.code).toBe(1);
  });

  test('15.8 two create-admin runs at once in one institution: exactly one administrator is created', async () => {
    const runs = await Promise.all(['first', 'other'].map((who) =>
      createAdmin(['--identifier', `${who}.admin`, '--first-name', 'Cy', '--last-name', who, '--email', `${who}@branch.example`, '--institution', 'BRANCH'])));
    expect(runs.map((r) => r.code).sort()).toEqual([0, 1]);
    expect(runs.find((r) => r.code === 1)!.stderr).toMatch(/institution BRANCH has a staff operator already/);
    const [{ n }] = await db().query(
      `SELECT count(*)::int AS n FROM app_user u JOIN institution i ON i.id = u.institution_id WHERE i.code = 'BRANCH'`);
    expect(n).toBe(1);
  });
});

test('15.8 the password comes from CARREL_ADMIN_PASSWORD when it is set, and nothing is read from stdin', async () => {
  await createInstitution(db(), 'ANNEX');
  const run = await createAdmin(['--identifier', 'annex.admin', '--first-name', 'Di', '--last-name', 'Annex', '--email', 'di@annex.example',
    '--institution', 'ANNEX'], 'not the password\n', { CARREL_ADMIN_PASSWORD: 'from the environment 7' });
  expect(run.code).toBe(0);
  await expect(app.login('annex.admin', 'from the environment 7')).resolves.toEqual(expect.any(String));
});

test('15.8 on a database without any table (a new production database), create-admin applies the migrations first', async () => {
  const fresh = await createEmptyDatabase('carrel_cli_admin');
  try {
    const run = await runCarrel(['create-admin', ...ADMIN, ...NEW_INSTITUTION], { DATABASE_URL: fresh.url, CARREL_DATA_DIR: dataDir }, `${PASSWORD}\n`);
    expect(run.stdout).toMatch(/applied migration InitialSchema1764230400000/);
    expect(run.stdout).toMatch(/created administrator head\.librarian/);
    expect(run.code).toBe(0);
  } finally {
    await fresh.drop();
  }
});

test('15.8 create-admin runs in production without CARREL_TOKEN_SECRET: it signs no tokens', async () => {
  await createInstitution(db(), 'PRODU');
  const run = await createAdmin(['--identifier', 'prod.admin', '--first-name', 'Ed', '--last-name', 'Prod', '--email', 'ed@prod.example',
    '--institution', 'PRODU'], `${PASSWORD}\n`, { NODE_ENV: 'production' });
  expect(run.stdout).toMatch(/created administrator prod\.admin/);
  expect(run.code).toBe(0);
});
