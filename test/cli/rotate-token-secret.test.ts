import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { runCarrel } from './run-carrel-cli';

/**
 * `npm run carrel -- rotate-token-secret` (issue 15 item 8), run as a real process against the database of a server
 * running in this test: the tokens that server signed before the rotation are refused after it.
 */

const SECRET_LIKE = /^[A-Za-z0-9_+/=-]{32,}$/m;
const CONFIGURED_SECRET = 'the-configured-secret-of-every-instance-0123456789';

let app: TestApp;
let inst: InstitutionFixture;
let dataDir: string;
const rotate = (args: string[], extra: Record<string, string> = {}) =>
  runCarrel(['rotate-token-secret', ...args], { DATABASE_URL: app.db.url, CARREL_DATA_DIR: dataDir, ...extra });
const meOf = async (token: string) => (await app.gql(`{ me { primaryIdentifier } }`, {}, token)).data?.me?.primaryIdentifier ?? null;

beforeAll(async () => {
  app = await startTestApp({ jobs: false });
  inst = await createInstitution(app.db.dataSource);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-rotate-'));
});
afterAll(async () => {
  await app.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('15.8 rotate-token-secret ends every session: tokens accepted before are refused after, and the output counts the users', async () => {
  for (const id of ['rot_a', 'rot_b']) await createPerson(app.db.dataSource, inst, { primaryIdentifier: id, roles: [['USER_MANAGER', 'INSTITUTION']] });
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'rot_patron', recordType: 'PUBLIC', withPassword: false, roles: [['PATRON', 'INSTITUTION']] });
  const tokens = [await app.login('rot_a', PASSWORD), await app.login('rot_b', PASSWORD)];
  expect(await Promise.all(tokens.map(meOf))).toEqual(['rot_a', 'rot_b']);
  const run = await rotate([], { CARREL_TOKEN_SECRET: CONFIGURED_SECRET });
  expect(run.stdout).toMatch(/ended the sessions of 2 users with a password: every token signed before now is refused/);
  expect(run.code).toBe(0);
  expect(await Promise.all(tokens.map(meOf))).toEqual([null, null]);
  // Signing in again works: only the old tokens ended.
  expect(await meOf(await app.login('rot_a', PASSWORD))).toBe('rot_a');
});

test('15.8 with CARREL_TOKEN_SECRET set, it says the variable must change on every instance and prints no secret', async () => {
  const run = await rotate([], { CARREL_TOKEN_SECRET: CONFIGURED_SECRET });
  expect(run.stdout).toMatch(/CARREL_TOKEN_SECRET is set: give it a new value on every instance \(the same on all\) and restart them/);
  expect(run.stdout).not.toMatch(SECRET_LIKE);
  expect(run.stdout + run.stderr).not.toContain(CONFIGURED_SECRET);
  expect(fs.existsSync(path.join(dataDir, 'token-secret'))).toBe(false);
});

test('15.8 --generate prints a fresh value of at least 32 bytes for CARREL_TOKEN_SECRET, a new one each time', async () => {
  const values = [];
  for (let i = 0; i < 2; i++) {
    const run = await rotate(['--generate'], { CARREL_TOKEN_SECRET: CONFIGURED_SECRET });
    expect(run.code).toBe(0);
    const [, value] = /new value for CARREL_TOKEN_SECRET:\n(\S+)\n/.exec(run.stdout) ?? [];
    expect(Buffer.byteLength(value, 'utf8')).toBeGreaterThanOrEqual(32);
    values.push(value);
  }
  expect(values[0]).not.toBe(values[1]);
});

test('15.8 without CARREL_TOKEN_SECRET, the development secret in the data folder is replaced, readable by its owner only', async () => {
  const file = path.join(dataDir, 'token-secret');
  fs.writeFileSync(file, 'the-old-development-secret-0123456789', { mode: 0o600 });
  const run = await rotate([]);
  expect(run.stdout).toContain(`wrote a new token secret to ${file}`);
  expect(run.code).toBe(0);
  const secret = fs.readFileSync(file, 'utf8');
  expect(secret).not.toBe('the-old-development-secret-0123456789');
  expect(Buffer.byteLength(secret, 'utf8')).toBeGreaterThanOrEqual(32);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(run.stdout).not.toContain(secret);
});

test('15.8 rotate-token-secret takes no other argument: exit 2 with the usage', async () => {
  const run = await rotate(['--secret', 'x']);
  expect(run.stderr).toMatch(/unknown argument "--secret"\nusage: npm run carrel -- rotate-token-secret/);
  expect(run.code).toBe(2);
});
