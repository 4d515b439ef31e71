import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { seedDemoIfEmpty } from '../../src/seed/demo-data';
import { carrelEnv, runToExit } from '../support/carrel-process';
import { createInstitution, createPatron, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-db';
import { configureFines, fineRow, givenFine, givenFines } from './fine-fixtures';

/**
 * `npm run bursar:export` as an operator runs it: the CLI in a child process against this file's database, acting
 * as an API key; observed through its output, exit code, the file it writes and the database.
 */

const BUILD_TIMEOUT_MS = 120_000;
/** The CLI from source (the first test runs the built one through npm). */
const CLI = [process.execPath, '-r', './bench/swc-register.js', 'src/bursar/bursar-cli.ts'];

let app: TestApp;
let inst: InstitutionFixture;
let mainKey: string;
let institutionKey: string;
let dir: string;
let patron: string;
const db = (): DataSource => app.db.dataSource;
const env = (vars: Record<string, string> = {}) => carrelEnv({ DATABASE_URL: app.db.url, CARREL_DATA_DIR: dir, ...vars });
const out = (name: string) => path.join(dir, name);

async function givenKey(admin: string, name: string, scope: Record<string, string>): Promise<string> {
  const res = await app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`,
    { in: { name, roles: [{ roleType: 'FULFILLMENT_ADMINISTRATOR', scope }] } }, admin);
  return res.data.createApiKey.secret;
}

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await configureFines(db(), inst);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-bursar-cli-'));
  const { ua_bursar: admin } = await loginOperators(app, inst, { ua_bursar: ['USER_ADMINISTRATOR', 'INSTITUTION'] });
  institutionKey = await givenKey(admin, 'bursar nightly', { type: 'INSTITUTION' });
  mainKey = await givenKey(admin, 'bursar main', { type: 'LIBRARY', libraryId: inst.libraries.MAIN.id });
  patron = await createPatron(db(), inst, { primaryIdentifier: 'cli_patron' });
});
afterAll(async () => {
  await app.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('npm run bursar:export -- --out FILE builds, exports the ACTIVE fines of the key\'s scope and writes them as JSON Lines', async () => {
  const [main] = await givenFines(db(), inst, patron, 1, '4.50', { owner: 'MAIN' });
  const law = await givenFine(db(), inst, patron, '2.00', { owner: 'LAW' });
  const run = await runToExit(['npm', 'run', 'bursar:export', '--', '--out', out('main.jsonl'), '--batch-id', 'nightly-1', '--api-key', mainKey], env(), BUILD_TIMEOUT_MS);
  expect(run.output).toMatch(/batch nightly-1: 1 fine, total 4\.50 USD, exported .* by api-key:bursar main; written to .*main\.jsonl \(jsonl\)/);
  expect(run.code).toBe(0);
  const lines = fs.readFileSync(out('main.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  expect(lines).toEqual([expect.objectContaining({ userPrimaryIdentifier: 'cli_patron', fineId: main, feeType: 'OVERDUEFINE', owner: 'MAIN', amount: '4.50', currency: 'USD' })]);
  expect([(await fineRow(db(), main)).status, (await fineRow(db(), law)).status]).toEqual(['TRANSFERRED', 'ACTIVE']);
}, BUILD_TIMEOUT_MS + 10_000);

test('--format csv --library LAW writes that library\'s fines as CSV; the key comes from CARREL_API_KEY', async () => {
  const run = await runToExit([...CLI, '--out', out('law.csv'), '--format', 'csv', '--library', 'LAW', '--batch-id', 'law-1'], env({ CARREL_API_KEY: institutionKey }));
  expect(run.code).toBe(0);
  const csv = fs.readFileSync(out('law.csv'), 'utf8').split('\r\n');
  expect(csv[0]).toBe('userPrimaryIdentifier,fineId,feeType,owner,amount,currency,fineCreatedAt');
  expect(csv[1]).toMatch(/^cli_patron,[0-9a-f-]{36},OVERDUEFINE,LAW,2\.00,USD,\d{4}-/);
  expect(csv).toHaveLength(3);
});

test('running again with the same batch id writes the same batch and transfers nothing more', async () => {
  const late = await givenFine(db(), inst, patron, '9.00', { owner: 'LAW' });
  const run = await runToExit([...CLI, '--out', out('law-again.csv'), '--format', 'csv', '--library', 'LAW', '--batch-id', 'law-1'], env({ CARREL_API_KEY: institutionKey }));
  expect(run.code).toBe(0);
  expect(fs.readFileSync(out('law-again.csv'), 'utf8')).toBe(fs.readFileSync(out('law.csv'), 'utf8'));
  expect((await fineRow(db(), late)).status).toBe('ACTIVE');
});

test('a library outside the key\'s scope fails with exit code 1, exports nothing and writes no file', async () => {
  const before = await db().query(`SELECT count(*)::int AS n FROM bursar_export_batch`);
  const run = await runToExit([...CLI, '--out', out('refused.jsonl'), '--library', 'LAW', '--api-key', mainKey], env());
  expect(run.code).toBe(1);
  expect(run.output).toMatch(/bursar:export failed: .*outside the scopes/);
  expect(fs.existsSync(out('refused.jsonl'))).toBe(false);
  expect(await db().query(`SELECT count(*)::int AS n FROM bursar_export_batch`)).toEqual(before);
});

test('bad arguments exit 2 with the usage', async () => {
  for (const args of [[], ['--out'], ['--out', 'x', '--format', 'xml'], ['--out', 'x', '--batch-id', 'a b'], ['--everything']]) {
    const run = await runToExit([...CLI, ...args], env({ CARREL_API_KEY: institutionKey }));
    expect({ args, code: run.code }).toEqual({ args, code: 2 });
    expect(run.output).toMatch(/usage: npm run bursar:export/);
  }
});

test('without an API key the job does not run and exits 1', async () => {
  const run = await runToExit([...CLI, '--out', out('nokey.jsonl')], env());
  expect(run.output).toMatch(/bursar:export failed: no API key/);
  expect(run.code).toBe(1);
});

test('an --out the batch cannot be written to (no such folder, a folder) fails with exit code 1 before anything is exported', async () => {
  const fine = await givenFine(db(), inst, patron, '6.00', { owner: 'MAIN' });
  const before = await db().query(`SELECT count(*)::int AS n FROM bursar_export_batch`);
  for (const target of [path.join(dir, 'no-such-folder', 'batch.jsonl'), dir]) {
    const run = await runToExit([...CLI, '--out', target, '--api-key', mainKey], env());
    expect({ target, code: run.code }).toEqual({ target, code: 1 });
    expect(run.output).toMatch(/bursar:export failed: cannot write .*nothing was exported/);
  }
  expect(await db().query(`SELECT count(*)::int AS n FROM bursar_export_batch`)).toEqual(before);
  expect((await fineRow(db(), fine)).status).toBe('ACTIVE');
});

test('on a fresh demo, npm run bursar:export -- --out FILE works as the issue writes it: the demo key may export', async () => {
  let demo: TestDatabase | undefined;
  const demoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-bursar-demo-'));
  try {
    demo = await createTestDatabase();
    await seedDemoIfEmpty(demo.dataSource, { adminPassword: 'Quiet-Lantern-2719', dataDir: demoDir, log: () => {} });
    const file = path.join(demoDir, 'bursar.jsonl');
    const run = await runToExit([...CLI, '--out', file], carrelEnv({ DATABASE_URL: demo.url, CARREL_DATA_DIR: demoDir }));
    expect(run.output).toMatch(/batch [0-9a-f-]{36}: \d+ fines?, total [\d.]+ USD, exported .* by api-key:Demo SIS/);
    expect(run.code).toBe(0);
    expect(fs.existsSync(file)).toBe(true);
  } finally {
    await demo?.drop();
    fs.rmSync(demoDir, { recursive: true, force: true });
  }
}, 60_000);
