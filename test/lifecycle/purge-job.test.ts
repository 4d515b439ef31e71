import type { DataSource } from 'typeorm';
import { sqlStatementCount } from '../../src/db/sql-logger';
import { runPurgeBatch, runPurgeJob } from '../../src/lifecycle/purge-job';
import { configureFines, givenFine } from '../fines/fine-fixtures';
import { createInstitution, createPatron, createPerson, InstitutionFixture, loginOperators, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { contextOf, givenLoan, lifecycleFingerprint, setPurgeDate } from './lifecycle-fixtures';

/**
 * Specification of the purge job (issue 10 item 6, R10.4): who is due (purge
 * date plus grace passed), who is skipped and why (R4.5, R10.2, the subset
 * rule), dry runs, batches that commit on their own, resuming, and two jobs
 * at once. Each test has an institution of its own, so one test's due users
 * are not another's.
 */

let app: TestApp;
let serial = 0;
const db = (): DataSource => app.db.dataSource;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const JOB = `mutation($dry: Boolean!, $grace: Int) {
  runPurgeJob(dryRun: $dry, graceDays: $grace) { dryRun graceDays dueBefore purged skipped skippedUsers { userId primaryIdentifier reasons { code message } } }
}`;

/** A fresh institution with a User Manager at the institution (`token`) and its operator's id. */
async function institution(): Promise<{ inst: InstitutionFixture; token: string; operatorId: string; tokens: Record<string, string> }> {
  serial += 1;
  const inst = await createInstitution(db(), `JOB${serial}`);
  await configureFines(db(), inst);
  const tokens = await loginOperators(app, inst, {
    [`um_job${serial}`]: ['USER_MANAGER', 'INSTITUTION'],
    [`um_main_job${serial}`]: ['USER_MANAGER', 'MAIN'],
    [`cdo_job${serial}`]: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
  });
  const [operator] = await db().query(`SELECT id FROM app_user WHERE primary_identifier = $1`, [`um_job${serial}`]);
  return { inst, token: tokens[`um_job${serial}`], operatorId: operator.id, tokens: { ...tokens, main: tokens[`um_main_job${serial}`], cdo: tokens[`cdo_job${serial}`] } };
}

/** A patron whose purge date is `daysAgo` days before today (null: none). */
async function duePatron(inst: InstitutionFixture, daysAgo: number | null, pid?: string): Promise<string> {
  const id = await createPatron(db(), inst, pid ? { primaryIdentifier: pid } : {});
  if (daysAgo !== null) await setPurgeDate(db(), id, daysAgo);
  return id;
}

const isPurged = async (id: string) => (await db().query(`SELECT purged_at FROM app_user WHERE id = $1`, [id]))[0].purged_at !== null;

async function job(token: string, dryRun: boolean, graceDays?: number) {
  const res = await app.gql(JOB, { dry: dryRun, grace: graceDays }, token);
  expect(res.errors).toBeUndefined();
  return res.data.runPurgeJob;
}

test('R10.4 with 10 days of grace, a user 20 days past its purge date is purged; one 5 days past and one without a date are not', async () => {
  const { inst, token } = await institution();
  const [past20, past5, none] = [await duePatron(inst, 20), await duePatron(inst, 5), await duePatron(inst, null)];
  const report = await job(token, false, 10);
  expect(report).toMatchObject({ dryRun: false, graceDays: 10, purged: 1, skipped: 0, skippedUsers: [] });
  expect([await isPurged(past20), await isPurged(past5), await isPurged(none)]).toEqual([true, false, false]);
});

test('R10.4 "passed" means purge date + grace is before today: exactly 10 days past is not due with 10 days of grace, 11 is', async () => {
  const { inst, token } = await institution();
  const [past10, past11] = [await duePatron(inst, 10), await duePatron(inst, 11)];
  const report = await job(token, false, 10);
  const [today] = await db().query(`SELECT (current_date - 10)::text AS day`);
  expect(report).toMatchObject({ purged: 1, dueBefore: today.day });
  expect([await isPurged(past10), await isPurged(past11)]).toEqual([false, true]);
});

test('R10.4 without grace, yesterday\'s purge date is due and today\'s is not', async () => {
  const { inst, token } = await institution();
  const [today, yesterday] = [await duePatron(inst, 0), await duePatron(inst, 1)];
  expect((await job(token, false)).purged).toBe(1);
  expect([await isPurged(today), await isPurged(yesterday)]).toEqual([false, true]);
});

test('R4.5 the job skips protected accounts, reporting the reason', async () => {
  const { inst, token } = await institution();
  const [vendor] = await db().query(
    `INSERT INTO app_user (institution_id, record_type, account_type, primary_identifier, first_name, last_name, purge_date, created_by, updated_by)
     VALUES ($1, 'STAFF', 'INTERNAL', 'exl_support', 'Ex', 'Libris', current_date - 100, 'test', 'test') RETURNING id`, [inst.id]);
  const report = await job(token, false);
  expect(report).toMatchObject({ purged: 0, skipped: 1 });
  expect(report.skippedUsers).toEqual([
    { userId: vendor.id, primaryIdentifier: 'exl_support', reasons: [{ code: 'PROTECTED_ACCOUNT', message: expect.stringContaining('protected') }] },
  ]);
  expect(await isPurged(vendor.id)).toBe(false);
});

test('R10.2 the job skips users with a balance due or open loans, with every reason', async () => {
  const { inst, token } = await institution();
  const owing = await duePatron(inst, 3, 'owing_patron');
  await givenFine(db(), inst, owing, '8.00', { owner: 'LAW' });
  await givenLoan(db(), inst, owing);
  const borrowing = await duePatron(inst, 3, 'borrowing_patron');
  await givenLoan(db(), inst, borrowing);
  const report = await job(token, false);
  expect(report).toMatchObject({ purged: 0, skipped: 2 });
  const byUser = Object.fromEntries(report.skippedUsers.map((s: any) => [s.primaryIdentifier, s.reasons.map((r: any) => r.code)]));
  expect(byUser).toEqual({ owing_patron: ['BALANCE_DUE', 'OPEN_LOANS'], borrowing_patron: ['OPEN_LOANS'] });
  expect([await isPurged(owing), await isPurged(borrowing)]).toEqual([false, false]);
});

test('subset rule: the job skips users holding roles beyond the operator, and the operator itself, as NOT_PERMITTED', async () => {
  const { inst, token, operatorId } = await institution();
  const cataloger = await createPerson(db(), inst, { primaryIdentifier: `cataloger_job${serial}`, roles: [['CATALOGER', 'INSTITUTION']] });
  await setPurgeDate(db(), cataloger, 30);
  await setPurgeDate(db(), operatorId, 30);
  const report = await job(token, false);
  expect(report).toMatchObject({ purged: 0, skipped: 2 });
  expect(report.skippedUsers.map((s: any) => [s.userId, s.reasons.map((r: any) => r.code)]).sort()).toEqual(
    [[cataloger, ['NOT_PERMITTED']], [operatorId, ['NOT_PERMITTED']]].sort(),
  );
  expect(report.skippedUsers.find((s: any) => s.userId === cataloger).reasons[0].message).toMatch(/CATALOGER/);
});

test('R10.4 a dry run reports what a real run would do and changes nothing', async () => {
  const { inst, token } = await institution();
  for (let i = 0; i < 3; i++) await duePatron(inst, 40);
  const blocked = await duePatron(inst, 40);
  await givenLoan(db(), inst, blocked);
  const before = await lifecycleFingerprint(db());
  const dry = await job(token, true);
  expect(await lifecycleFingerprint(db())).toBe(before);
  const real = await job(token, false);
  expect(dry).toEqual({ ...real, dryRun: true });
  expect(real).toMatchObject({ purged: 3, skipped: 1 });
});

test('R10.4 a purge run writes history and a USER_PURGED event per user, attributed to the operator', async () => {
  const { inst, token } = await institution();
  const id = await duePatron(inst, 2);
  await job(token, false);
  const history = await db().query(`SELECT field, new_value, changed_by FROM history_entry WHERE user_id = $1 AND field = 'record' ORDER BY id`, [id]);
  expect(history.map((h: any) => h.new_value)).toEqual(['purged']);
  expect(history[0].changed_by).toBe(`um_job${serial}`);
  const events = await db().query(`SELECT event_type FROM event_outbox WHERE aggregate_id = $1`, [id]);
  expect(events).toEqual([{ event_type: 'USER_PURGED' }]);
});

test('R10.4 a job interrupted after its first batch resumes on the next run: everyone purged once', async () => {
  const { inst, token } = await institution();
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) ids.push(await duePatron(inst, 10 + i));
  const ctx = await contextOf(db(), token);
  const [dueBefore] = await db().query(`SELECT current_date::text AS day`);
  // The first batch commits, then the run "dies".
  const first = await runPurgeBatch(ctx, { dueBefore: dueBefore.day, dryRun: false, after: null, limit: 3 });
  expect(first.purged).toBe(3);
  const report = await runPurgeJob(ctx, { dryRun: false, batchSize: 3 });
  expect(report.purged).toBe(4);
  const counts = await db().query(
    `SELECT user_id, count(*)::int AS n FROM history_entry WHERE user_id = ANY($1::uuid[]) AND new_value = 'purged' GROUP BY user_id`, [ids]);
  expect(counts.map((c: any) => c.n)).toEqual(ids.map(() => 1));
});

test('R10.4 two jobs at once: the second is refused with CONFLICT (issue 15 item 5) and the first purges each user exactly once', async () => {
  const { inst, token } = await institution();
  await db().query(
    `INSERT INTO app_user (institution_id, record_type, account_type, primary_identifier, first_name, last_name, purge_date, created_by, updated_by)
     SELECT $1, 'PUBLIC', 'INTERNAL', 'twice' || g, 'Twice', 'User ' || g, current_date - g, 'test', 'test' FROM generate_series(1, 60) g`, [inst.id]);
  const [a, b] = [await contextOf(db(), token), await contextOf(db(), token)];
  const runs = await Promise.allSettled([runPurgeJob(a, { dryRun: false, batchSize: 4 }), runPurgeJob(b, { dryRun: false, batchSize: 4 })]);
  expect(runs.flatMap((r) => (r.status === 'fulfilled' ? [r.value.purged] : []))).toEqual([60]);
  expect(runs.flatMap((r) => (r.status === 'rejected' ? [r.reason.extensions.code] : []))).toEqual(['CONFLICT']);
  const [purges] = await db().query(
    `SELECT count(*)::int AS entries, count(DISTINCT user_id)::int AS users FROM history_entry WHERE institution_id = $1 AND new_value = 'purged'`, [inst.id]);
  expect(purges).toEqual({ entries: 60, users: 60 });
});

test('R10.4 the report lists the first 1,000 skipped users and counts them all', async () => {
  const { inst, token } = await institution();
  const users: { id: string }[] = await db().query(
    `INSERT INTO app_user (institution_id, record_type, account_type, primary_identifier, first_name, last_name, purge_date, created_by, updated_by)
     SELECT $1, 'PUBLIC', 'INTERNAL', 'loaned' || g, 'Lo', 'Aned ' || g, current_date - 5, 'test', 'test' FROM generate_series(1, 1003) g RETURNING id`, [inst.id]);
  await db().query(`INSERT INTO loan (institution_id, user_id, item_barcode, due_date) SELECT $1, u, 'I' || u, now() FROM unnest($2::uuid[]) u`,
    [inst.id, users.map((u) => u.id)]);
  const report = await job(token, true);
  expect(report.skipped).toBe(1003);
  expect(report.skippedUsers).toHaveLength(1000);
});

test('R10.4 a batch costs the same statements for 5 users as for 50', async () => {
  const { inst, token } = await institution();
  await db().query(
    `INSERT INTO app_user (institution_id, record_type, account_type, primary_identifier, first_name, last_name, purge_date, created_by, updated_by)
     SELECT $1, 'PUBLIC', 'INTERNAL', 'counted' || g, 'Co', 'Unted ' || g, current_date - 1 - g, 'test', 'test' FROM generate_series(1, 55) g`, [inst.id]);
  const ctx = await contextOf(db(), token);
  const [today] = await db().query(`SELECT current_date::text AS day`);
  const statements = async (limit: number) => {
    const before = sqlStatementCount();
    const batch = await runPurgeBatch(ctx, { dueBefore: today.day, dryRun: false, after: null, limit });
    expect(batch.purged).toBe(limit);
    return sqlStatementCount() - before;
  };
  const [five, fifty] = [await statements(5), await statements(50)];
  console.log(`purge job: ${five} statements for a batch of 5, ${fifty} for a batch of 50`);
  expect(fifty).toBe(five);
});

test('R10.4 graceDays outside 0..3650 is BAD_USER_INPUT naming it', async () => {
  const { token } = await institution();
  for (const grace of [-1, 3651]) {
    const res = await app.gql(JOB, { dry: true, grace }, token);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'graceDays' });
  }
});

test('R10.1 the job needs User Manager or User Administrator scoped to the institution: library-scoped, desk and anonymous callers are refused', async () => {
  const { inst, tokens } = await institution();
  const id = await duePatron(inst, 9);
  const before = await lifecycleFingerprint(db());
  for (const token of [tokens.main, tokens.cdo, undefined]) {
    const res = await app.gql(JOB, { dry: false }, token);
    expect(res.errors?.[0].extensions?.code).toBe(token ? 'FORBIDDEN' : 'UNAUTHENTICATED');
  }
  expect(await lifecycleFingerprint(db())).toBe(before);
  expect(await isPurged(id)).toBe(false);
});

test('the job purges only its operator\'s institution', async () => {
  const mine = await institution();
  const theirs = await institution();
  const [own, foreign] = [await duePatron(mine.inst, 30), await duePatron(theirs.inst, 30)];
  expect((await job(mine.token, false)).purged).toBe(1);
  expect([await isPurged(own), await isPurged(foreign)]).toEqual([true, false]);
});

test('R11.2 a job run with an API key is attributed to the key', async () => {
  const { inst } = await institution();
  const id = await duePatron(inst, 4);
  await createPerson(db(), inst, { primaryIdentifier: `ua_key${serial}`, roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  const admin = await app.login(`ua_key${serial}`, PASSWORD);
  const key = await app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`,
    { in: { name: 'purger', roles: [{ roleType: 'USER_MANAGER', scope: { type: 'INSTITUTION' } }] } }, admin);
  expect(key.errors).toBeUndefined();
  const res = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key.data.createApiKey.secret },
    body: JSON.stringify({ query: JOB, variables: { dry: false } }),
  });
  const body = (await res.json()) as any;
  expect(body.errors).toBeUndefined();
  expect(body.data.runPurgeJob.purged).toBe(1);
  const [entry] = await db().query(`SELECT changed_by FROM history_entry WHERE user_id = $1 AND new_value = 'purged'`, [id]);
  expect(entry.changed_by).toBe('api-key:purger');
});
