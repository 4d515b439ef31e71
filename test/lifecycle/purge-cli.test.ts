import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { carrelEnv, runToExit } from '../support/carrel-process';
import { createInstitution, createPatron, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { givenLoan, lifecycleFingerprint, setPurgeDate } from './lifecycle-fixtures';

/**
 * `npm run purge` as an operator runs it: the built CLI in a child process,
 * against this file's database, acting as an API key; observed through its
 * output, its exit code and the database.
 */

const BUILD_TIMEOUT_MS = 120_000;
const BUILT_CLI = [process.execPath, 'dist/src/lifecycle/purge-cli.js'];

let app: TestApp;
let inst: InstitutionFixture;
let apiKey: string;
let dataDir: string;
let due: string[];
let borrower: string;
const db = (): DataSource => app.db.dataSource;

/** The process's environment: this database, an empty data folder (so no demo key is found), nothing else of the machine's Carrel settings. */
const env = (vars: Record<string, string> = {}) => carrelEnv({ DATABASE_URL: app.db.url, CARREL_DATA_DIR: dataDir, ...vars });
const isPurged = async (id: string) => (await db().query(`SELECT purged_at FROM app_user WHERE id = $1`, [id]))[0].purged_at !== null;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-purge-cli-'));
  const { ua_cli: admin } = await loginOperators(app, inst, { ua_cli: ['USER_ADMINISTRATOR', 'INSTITUTION'] });
  const key = await app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`,
    { in: { name: 'nightly purge', roles: [{ roleType: 'USER_MANAGER', scope: { type: 'INSTITUTION' } }] } }, admin);
  apiKey = key.data.createApiKey.secret;
  due = [await createPatron(db(), inst), await createPatron(db(), inst)];
  borrower = await createPatron(db(), inst, { primaryIdentifier: 'cli_borrower' });
  for (const id of [...due, borrower]) await setPurgeDate(db(), id, 30);
  await givenLoan(db(), inst, borrower);
});
afterAll(async () => {
  await app.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('npm run purge -- --dry-run builds, reports who would be purged and skipped with reasons, exits 1 for the skipped user and changes nothing', async () => {
  const before = await lifecycleFingerprint(db());
  const run = await runToExit(['npm', 'run', 'purge', '--', '--dry-run', '--grace-days', '10', '--api-key', apiKey], env(), BUILD_TIMEOUT_MS);
  expect(run.output).toMatch(/dry run: would purge 2 users, skipped 1 \(grace 10 days/);
  expect(run.output).toMatch(/skipped OPEN_LOANS: 1/);
  expect(run.output).toMatch(/cli_borrower .*OPEN_LOANS \(1 loan is not returned yet\)/);
  expect(run.output).toMatch(/3 users in [\d.]+ s \(\d+ users\/s\)/);
  expect(run.code).toBe(1);
  expect(await lifecycleFingerprint(db())).toBe(before);
}, BUILD_TIMEOUT_MS + 10_000);

test('a real run purges the due users, attributed to the API key, and exits 1 while a user is skipped', async () => {
  const run = await runToExit([...BUILT_CLI, '--api-key', apiKey], env());
  expect(run.output).toMatch(/purged 2 users, skipped 1/);
  expect(run.code).toBe(1);
  expect([await isPurged(due[0]), await isPurged(due[1]), await isPurged(borrower)]).toEqual([true, true, false]);
  const [entry] = await db().query(`SELECT changed_by FROM history_entry WHERE user_id = $1 AND new_value = 'purged'`, [due[0]]);
  expect(entry.changed_by).toBe('api-key:nightly purge');
});

test('once nothing stands in the way, the next run purges the rest and exits 0 (the key from CARREL_API_KEY)', async () => {
  await db().query(`UPDATE loan SET returned_at = now() WHERE user_id = $1`, [borrower]);
  const run = await runToExit(BUILT_CLI, env({ CARREL_API_KEY: apiKey }));
  expect(run.output).toMatch(/purged 1 user, skipped 0/);
  expect(run.code).toBe(0);
  expect(await isPurged(borrower)).toBe(true);
});

test('bad arguments exit 2 with the usage', async () => {
  for (const args of [['--grace-days', 'ten'], ['--grace-days', '3651'], ['--grace-days'], ['--purge-everyone']]) {
    const run = await runToExit([...BUILT_CLI, ...args], env({ CARREL_API_KEY: apiKey }));
    expect({ args, code: run.code }).toEqual({ args, code: 2 });
    expect(run.output).toMatch(/usage: npm run purge/);
  }
});

test('without an API key, or with a key that is not valid, the job does not run and exits 1', async () => {
  const missing = await runToExit(BUILT_CLI, env());
  expect(missing.output).toMatch(/purge failed: no API key/);
  expect(missing.code).toBe(1);
  const wrong = await runToExit([...BUILT_CLI, '--api-key', 'not-a-key'], env());
  expect(wrong.output).toMatch(/purge failed: the API key was refused/);
  expect(wrong.code).toBe(1);
});
