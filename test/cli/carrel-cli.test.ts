import { createInstitution, createPatron, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { runCarrel } from './run-carrel-cli';

/**
 * `npm run carrel` itself (issue 15 item 8): the command list, each command's help, refusals of the command line, and
 * `purge` running the same job as `npm run purge`.
 */

const COMMANDS = ['create-admin', 'unlock-user', 'rotate-token-secret', 'purge', 'migrations', 'migrate'];

let app: TestApp;
let inst: InstitutionFixture;
const vars = (extra: Record<string, string> = {}) => ({ DATABASE_URL: app.db.url, CARREL_DATA_DIR: '/nonexistent', ...extra });

beforeAll(async () => {
  app = await startTestApp({ jobs: false });
  inst = await createInstitution(app.db.dataSource);
});
afterAll(() => app.close());

test('15.8 without a command, carrel lists the commands and exits 2', async () => {
  const run = await runCarrel([], vars());
  expect(run.stderr).toMatch(/a command is needed\nusage: npm run carrel -- <command> \[options\]/);
  for (const name of COMMANDS) expect(run.stderr).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
  expect(run.code).toBe(2);
});

test('15.8 an unknown command exits 2 with the command list', async () => {
  const run = await runCarrel(['drop-database'], vars());
  expect(run.stderr).toMatch(/unknown command "drop-database"\nusage: npm run carrel -- <command>/);
  expect(run.code).toBe(2);
});

test('15.8 every command has --help: its usage on stdout, exit 0, nothing done', async () => {
  for (const name of COMMANDS) {
    const run = await runCarrel([name, '--help'], vars());
    expect({ name, usage: run.stdout.startsWith(`usage: npm run carrel -- ${name}`), code: run.code }).toEqual({ name, usage: true, code: 0 });
  }
});

test('15.8 carrel purge runs the purge job as npm run purge does, acting as the API key given', async () => {
  const { ua_carrel: admin } = await loginOperators(app, inst, { ua_carrel: ['USER_ADMINISTRATOR', 'INSTITUTION'] });
  const key = await app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`,
    { in: { name: 'carrel purge', roles: [{ roleType: 'USER_MANAGER', scope: { type: 'INSTITUTION' } }] } }, admin);
  const due = await createPatron(app.db.dataSource, inst);
  await app.db.dataSource.query(`UPDATE app_user SET purge_date = current_date - 30 WHERE id = $1`, [due]);
  const run = await runCarrel(['purge', '--api-key', key.data.createApiKey.secret], vars());
  expect(run.stdout).toMatch(/purged 1 user, skipped 0/);
  expect(run.code).toBe(0);
  const [entry] = await app.db.dataSource.query(`SELECT changed_by FROM history_entry WHERE user_id = $1 AND new_value = 'purged'`, [due]);
  expect(entry.changed_by).toBe('api-key:carrel purge');
});

test("15.8 carrel purge refuses purge's bad arguments with its usage, exit 2", async () => {
  const run = await runCarrel(['purge', '--grace-days', 'ten'], vars());
  expect(run.stderr).toMatch(/--grace-days must be a whole number of days.*\nusage: npm run carrel -- purge \[--dry-run\]/);
  expect(run.code).toBe(2);
});
