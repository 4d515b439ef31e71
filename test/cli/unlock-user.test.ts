import { accountKey, createLoginGuard, LoginGuard } from '../../src/auth/login-guard';
import { createInstitution, createPerson, InstitutionFixture } from '../support/fixtures';
import { createTestDatabase, TestDatabase } from '../support/test-db';
import { runCarrel } from './run-carrel-cli';

/**
 * `npm run carrel -- unlock-user` (issue 15 item 8), run as a real process against this file's database. Accounts
 * are locked by the real login guard with small limits (two failures lock), as failed sign-ins would.
 */

let db: TestDatabase;
let main: InstitutionFixture;
let other: InstitutionFixture;
let guard: LoginGuard;

const unlock = (args: string[]) => runCarrel(['unlock-user', ...args], { DATABASE_URL: db.url, CARREL_DATA_DIR: '/nonexistent' });

/** Two failed sign-ins naming the user: with these limits, a lockout. */
async function lockOut(userId: string): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const admission = await guard.admitLogin(accountKey(userId, ''), null);
    if (!('ticket' in admission)) throw new Error(`attempt ${i + 1} was refused: ${admission.refusal.reason}`);
    await guard.settle(admission.ticket, 'failed');
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  main = await createInstitution(db.dataSource, 'MAINU');
  other = await createInstitution(db.dataSource, 'OTHERU');
  guard = createLoginGuard(db.dataSource, {
    freeFailures: 5, maxFailures: 2, lockoutSeconds: 600, delayMs: 1000, maxDelayMs: 1000, failureWindowSeconds: 3600,
    addressFreeFailures: 50, addressWindowSeconds: 3600,
  });
});
afterAll(() => db.drop());

test('15.8 unlock-user lifts a lockout, found by primary identifier in any case, and says the user was locked', async () => {
  const id = await createPerson(db.dataSource, main, { primaryIdentifier: 'locked.staff', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await lockOut(id);
  expect(await guard.holdOf(id, ['locked.staff'])).toBe('locked');
  const run = await unlock(['LOCKED.STAFF', '--institution', 'MAINU']);
  expect(run.stdout).toMatch(new RegExp(`unlocked locked\\.staff \\(user ${id}\\) in institution MAINU: it was locked`));
  expect(run.code).toBe(0);
  expect(await guard.holdOf(id, ['locked.staff'])).toBeNull();
});

test('15.8 the unlock is recorded as a USER_UNLOCKED event by cli:unlock-user', async () => {
  const id = await createPerson(db.dataSource, main, { primaryIdentifier: 'audited.staff', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await lockOut(id);
  expect((await unlock(['audited.staff', '--institution', 'MAINU'])).code).toBe(0);
  const events = await db.dataSource.query(`SELECT event_type, actor FROM event_outbox WHERE user_id = $1`, [id]);
  expect(events).toEqual([{ event_type: 'USER_UNLOCKED', actor: 'cli:unlock-user' }]);
});

test('15.8 a user found by its id that was not locked is unlocked all the same, and the output says it was not', async () => {
  const id = await createPerson(db.dataSource, main, { primaryIdentifier: 'free.staff', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const run = await unlock([id, '--institution', 'MAINU']);
  expect(run.stdout).toMatch(/unlocked free\.staff .* it was not locked/);
  expect(run.code).toBe(0);
});

test('15.8 a user of another institution is not found in the institution given: exit 1, nothing unlocked', async () => {
  const id = await createPerson(db.dataSource, other, { primaryIdentifier: 'elsewhere', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await lockOut(id);
  for (const given of ['elsewhere', id]) {
    const run = await unlock([given, '--institution', 'MAINU']);
    expect(run.stderr).toContain(`carrel unlock-user failed: no user "${given}" in institution MAINU`);
    expect(run.code).toBe(1);
  }
  expect(await guard.holdOf(id, ['elsewhere'])).toBe('locked');
});

test('15.8 with several institutions and no --institution, unlock-user exits 1 naming them', async () => {
  const run = await unlock(['locked.staff']);
  expect(run.stderr).toMatch(/several institutions \(MAINU, OTHERU\): choose one with --institution CODE/);
  expect(run.code).toBe(1);
});

test('15.8 an unknown institution exits 1 naming the ones there are', async () => {
  const run = await unlock(['locked.staff', '--institution', 'NOPE']);
  expect(run.stderr).toMatch(/no institution "NOPE" \(the database holds MAINU, OTHERU\)/);
  expect(run.code).toBe(1);
});

test('15.8 a protected vendor account cannot be unlocked: exit 1', async () => {
  await createPerson(db.dataSource, main, { primaryIdentifier: 'exl_impl', roles: [['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION']] });
  const run = await unlock(['exl_impl', '--institution', 'MAINU']);
  expect(run.stderr).toMatch(/carrel unlock-user failed: exl_impl is a protected account/);
  expect(run.code).toBe(1);
});

test.each([
  ['empty', '', /<identifier> is empty/],
  ['blank', '   ', /<identifier> is empty/],
  ['256 characters long', 'x'.repeat(256), /<identifier> is 256 characters long: at most 255 are allowed/],
  ['holding a control character', 'locked\u0001staff', /<identifier> contains a control character \(U\+0001\)/],
  ['holding a zero-width space', 'locked\u200bstaff', /<identifier> contains an invisible formatting character \(U\+200B\)/],
])('15.8 an identifier %s is a bad argument: exit 2 with the usage', async (_what, identifier, reason) => {
  const run = await unlock(['--institution', 'MAINU', '--', identifier]);
  expect(run.stderr).toMatch(reason);
  expect(run.stderr).toMatch(/usage: npm run carrel -- unlock-user <identifier>/);
  expect(run.code).toBe(2);
});

test('15.8 a missing identifier exits 2 with the usage', async () => {
  const run = await unlock(['--institution', 'MAINU']);
  expect(run.stderr).toMatch(/<identifier> is missing\nusage: npm run carrel -- unlock-user/);
  expect(run.code).toBe(2);
});
