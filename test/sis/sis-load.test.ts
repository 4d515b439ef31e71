import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { cliContext } from '../../src/cli/cli-context';
import { buildSchema } from '../../src/schema';
import { loadSisRecords, LoadOptions } from '../../src/sis/sis-load';
import { carrelEnv, ROOT, startCarrel } from '../support/carrel-process';
import { createInstitution, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { dumpUsers, student } from './sis-fixtures';

/**
 * `npm run sis:load`: the example files, a malformed record among good ones, the command-line process (exit codes,
 * summary) and a load killed with SIGKILL halfway and run again.
 */

let app: TestApp;
const schema = buildSchema();
const db = () => app.db.dataSource;
let serial = 0;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

/** An institution configured for the example files, and the secret of an SIS API key (User Manager) in it. */
async function sisInstitution(): Promise<{ inst: InstitutionFixture; key: string }> {
  serial += 1;
  const inst = await createInstitution(db(), `SIS${serial}`);
  await db().query(
    `INSERT INTO code_value (institution_id, kind, code, description) VALUES ($1, 'STATISTIC_CATEGORY', 'DEPT_HISTORY', 'History')`, [inst.id]);
  const { [`ua_sis${serial}`]: token } = await loginOperators(app, inst, { [`ua_sis${serial}`]: ['USER_ADMINISTRATOR', 'INSTITUTION'] });
  const res = await app.gql(`mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }`,
    { i: { name: 'SIS', roles: [{ roleType: 'USER_MANAGER', scope: { type: 'INSTITUTION' } }] } }, token);
  return { inst, key: res.data.createApiKey.secret };
}

async function load(key: string, input: NodeJS.ReadableStream, options: Partial<LoadOptions> = {}) {
  return loadSisRecords(await cliContext(db(), key), schema, input, { format: 'jsonl', externalOwner: 'SIS', dryRun: false, ...options });
}

const jsonLines = (records: unknown[]) => Readable.from(records.map((r) => `${typeof r === 'string' ? r : JSON.stringify(r)}\n`));

describe('the example files', () => {
  test.each(['jsonl', 'csv', 'xml'] as const)('each input format loads the same example users: %s', async (format) => {
    const { inst, key } = await sisInstitution();
    const summary = await load(key, fs.createReadStream(path.join(ROOT, `examples/sis/users.${format}`)), { format });
    expect(summary).toMatchObject({ records: 6, created: 6, failed: 0 });
    const dump = await dumpUsers(db(), inst.id);
    expect(JSON.parse(dump).map((u: { primary_identifier: string }) => u.primary_identifier))
      .toEqual(['sis-ex-001', 'sis-ex-002', 'sis-ex-003', 'sis-ex-004', 'sis-ex-005', 'sis-ex-006']);
    // The same users, whatever the format: the JSON Lines load is the reference.
    const reference = await sisInstitution();
    await load(reference.key, fs.createReadStream(path.join(ROOT, 'examples/sis/users.jsonl')));
    expect(dump).toEqual(await dumpUsers(db(), reference.inst.id));
  });

  test('R3.4 loading an example file twice: the second run finds every user unchanged', async () => {
    const { key } = await sisInstitution();
    await load(key, fs.createReadStream(path.join(ROOT, 'examples/sis/users.xml')), { format: 'xml' });
    expect(await load(key, fs.createReadStream(path.join(ROOT, 'examples/sis/users.csv')), { format: 'csv' }))
      .toMatchObject({ created: 0, updated: 0, unchanged: 6, failed: 0 });
  });
});

describe('records that fail alone', () => {
  test('a malformed record fails with its position while the records around it load', async () => {
    const { key } = await sisInstitution();
    const summary = await load(key, jsonLines([student(1), '{"primaryIdentifier": "broken"', student(2, { birthDate: '2001-02-30' }), student(3, { lastName: 'x'.repeat(300) }), student(4)]));
    expect(summary).toMatchObject({ records: 5, created: 2, failed: 3 });
    expect(summary.failures.map((f) => [f.position, f.code])).toEqual([[2, 'BAD_USER_INPUT'], [3, 'BAD_USER_INPUT'], [4, 'BAD_USER_INPUT']]);
    expect(summary.failures[1].field).toBe('birthDate');
    expect(summary.failures[2]).toMatchObject({ field: 'record 4.lastName', primaryIdentifier: 'stu3' });
  });

  test('Issue 9 finding 1 in a file: a NUL byte or a bidi control in a record fails that record alone', async () => {
    const { key } = await sisInstitution();
    const summary = await load(key, jsonLines([student(20), student(21, { firstName: 'Ann\u0000a' }), student(22, { lastName: 'Smith\u202e' }), student(23)]));
    expect(summary).toMatchObject({ created: 2, failed: 2 });
    expect(summary.failures.map((f) => [f.position, f.code, f.field])).toEqual([[2, 'BAD_USER_INPUT', 'record 2.firstName'], [3, 'BAD_USER_INPUT', 'record 3.lastName']]);
  });

  test('a domain refusal names the record\'s place in the file, not in its batch', async () => {
    const { key } = await sisInstitution();
    const records = Array.from({ length: 1005 }, (_, i) => student(10_000 + i));
    records[1003] = student(10_000 + 1003, { userGroup: 'NOPE' });
    const summary = await load(key, jsonLines(records));
    expect(summary).toMatchObject({ records: 1005, created: 1004, failed: 1, batches: 2 });
    expect(summary.failures[0]).toMatchObject({ position: 1004, field: 'record 1004.userGroup' });
  });

  test('a dry run reports and keeps nothing', async () => {
    const { inst, key } = await sisInstitution();
    const summary = await load(key, jsonLines([student(1), student(2)]), { dryRun: true });
    expect(summary).toMatchObject({ created: 2 });
    expect(await db().query(`SELECT count(*)::int AS n FROM app_user WHERE institution_id = $1 AND account_type = 'EXTERNAL'`, [inst.id])).toEqual([{ n: 0 }]);
  });
});

describe('the command-line process', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-sis-load-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const CLI = [process.execPath, '-r', './bench/swc-register.js', 'src/sis/sis-load-cli.ts'];
  const run = (args: string[], key: string) => startCarrel([...CLI, ...args], carrelEnv({ DATABASE_URL: app.db.url, CARREL_API_KEY: key, CARREL_DATA_DIR: tmp }));

  test('loads a file, prints the summary and exits 0; exits 1 when a record failed', async () => {
    const { key } = await sisInstitution();
    const ok = run(['examples/sis/users.xml'], key);
    expect(await ok.exited).toEqual({ code: 0, signal: null });
    expect(ok.output()).toMatch(/6 records in .* users\/s\): 6 created, 0 updated, 0 unchanged, 0 failed/);
    const file = path.join(tmp, 'bad.jsonl');
    fs.writeFileSync(file, `${JSON.stringify(student(1))}\n${JSON.stringify(student(2, { lastName: '' }))}\n`);
    const bad = run([file], key);
    expect(await bad.exited).toEqual({ code: 1, signal: null });
    expect(bad.output()).toMatch(/record 2 \(line 2\) stu2: BAD_USER_INPUT at record 2\.lastName/);
  });

  test('bad arguments and a refused key exit 2 with the reason', async () => {
    const unknown = run(['users.txt'], 'carrel_000000000000_x');
    expect((await unknown.exited).code).toBe(2);
    expect(unknown.output()).toMatch(/Cannot tell the format/);
    const refused = run(['examples/sis/users.jsonl'], 'carrel_000000000000_not-a-key-at-all-not-a-key-at-all-000000000');
    expect((await refused.exited).code).toBe(2);
    expect(refused.output()).toMatch(/the API key was refused/);
  });

  test('R3.4 a load killed with SIGKILL halfway and run again ends in exactly the state of one clean run', async () => {
    const file = path.join(tmp, 'big.jsonl');
    fs.writeFileSync(file, Array.from({ length: 6000 }, (_, i) => JSON.stringify(student(50_000 + i, {
      phones: [{ number: `555-${i}`, type: 'MOBILE' }], identifiers: [{ type: 'UNIV_ID', value: `U${i}` }, { type: 'BARCODE', value: `B${i}` }],
    }))).join('\n'));
    const killed = await sisInstitution();
    const clean = await sisInstitution();
    const first = run([file], killed.key);
    const count = async () => (await db().query(`SELECT count(*)::int AS n FROM app_user WHERE institution_id = $1 AND account_type = 'EXTERNAL'`, [killed.inst.id]))[0].n;
    for (let i = 0; i < 600 && (await count()) < 2000; i++) await new Promise((r) => setTimeout(r, 50));
    process.kill(-first.child.pid!, 'SIGKILL');
    await first.exited;
    const half = await count();
    expect(half).toBeGreaterThan(0);
    expect(half).toBeLessThan(6000);
    // Whole batches only: no user with half its identifiers.
    const [partial] = await db().query(
      `SELECT count(*)::int AS n FROM app_user u WHERE u.institution_id = $1 AND u.account_type = 'EXTERNAL'
          AND (SELECT count(*) FROM user_identifier i WHERE i.user_id = u.id) <> 2`, [killed.inst.id]);
    expect(partial.n).toBe(0);
    const again = run([file], killed.key);
    expect((await again.exited).code).toBe(0);
    expect(again.output()).toMatch(new RegExp(`${6000 - half} created, 0 updated, ${half} unchanged`));
    const once = run([file], clean.key);
    expect((await once.exited).code).toBe(0);
    expect(await dumpUsers(db(), killed.inst.id)).toEqual(await dumpUsers(db(), clean.inst.id));
  }, 120_000);
});
