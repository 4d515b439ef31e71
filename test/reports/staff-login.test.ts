import { sqlStatementCount } from '../../src/db/sql-logger';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD, PersonSpec } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * R11.1 staff login report, through the API. Each test gets an institution of
 * its own with a General System Administrator operator, who logs in (so its
 * own successful attempt is part of every period that includes "now").
 * Logins go through the real `login` mutation; attempts are moved in time
 * with SQL only to place them outside or at the edges of a period.
 */
let app: TestApp;
let seq = 0;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const REPORT = `query($from: DateTime!, $to: DateTime!, $since: DateTime, $first: Int) {
  staffLoginReport(from: $from, to: $to, noLoginSince: $since, first: $first) {
    from to successfulCount failedCount
    attempts { at identifier succeeded reason user { primaryIdentifier } }
    staffWithoutLoginSince { primaryIdentifier }
  }
}`;
const LOGIN = `mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }`;

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
/** A period around now that holds every login the test makes. */
const NOW = () => ({ from: ago(HOUR), to: ago(-HOUR) });

interface Tenant {
  inst: InstitutionFixture;
  operator: string;
  /** A login name unique in the whole database (login takes no institution here). */
  id(name: string): string;
  add(name: string, spec?: PersonSpec): Promise<string>;
  report(vars: Record<string, unknown>): Promise<any>;
  gql(vars: Record<string, unknown>): Promise<any>;
}

async function tenant(operatorRole = 'GENERAL_SYSTEM_ADMINISTRATOR'): Promise<Tenant> {
  const code = `SL${++seq}`;
  const suffix = `_${code.toLowerCase()}`;
  const inst = await createInstitution(app.db.dataSource, code);
  const operator = `admin${suffix}`;
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: operator, roles: [[operatorRole, 'INSTITUTION']] });
  const token = await app.login(operator, PASSWORD);
  const gql = (vars: Record<string, unknown>) => app.gql(REPORT, vars, token);
  return {
    inst,
    operator,
    id: (name) => `${name}${suffix}`,
    add: (name, spec = {}) => createPerson(app.db.dataSource, inst, { primaryIdentifier: `${name}${suffix}`, roles: [['CATALOGER', 'INSTITUTION']], ...spec }),
    gql,
    async report(vars) {
      const res = await gql(vars);
      expect(res.errors).toBeUndefined();
      return res.data.staffLoginReport;
    },
  };
}

async function login(identifier: string, password = PASSWORD) {
  return app.gql(LOGIN, { i: identifier, p: password });
}

/** Moves every recorded attempt of `identifier` to `at`. */
async function moveAttempts(identifier: string, at: string) {
  await app.db.dataSource.query(`UPDATE login_attempt SET attempted_at = $2 WHERE identifier = $1`, [identifier, at]);
}

/** The listed attempts other than the operator's own login. */
const othersOf = (t: Tenant, report: any) => report.attempts.filter((a: any) => a.identifier !== t.operator);
const ids = (users: { primaryIdentifier: string }[]) => users.map((u) => u.primaryIdentifier).sort();

test('R11.1 successful and failed staff logins in the period are listed and counted', async () => {
  const t = await tenant();
  await t.add('alice');
  await t.add('bob');
  expect((await login(t.id('alice'))).errors).toBeUndefined();
  expect((await login(t.id('bob'), 'not the password')).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  const report = await t.report(NOW());
  expect(othersOf(t, report)).toEqual([
    { at: expect.any(String), identifier: t.id('bob'), succeeded: false, reason: 'wrong password', user: { primaryIdentifier: t.id('bob') } },
    { at: expect.any(String), identifier: t.id('alice'), succeeded: true, reason: null, user: { primaryIdentifier: t.id('alice') } },
  ]);
  expect(report.successfulCount).toBe(1 + 1); // alice and the operator
  expect(report.failedCount).toBe(1);
});

test('R11.1 a refused login of an inactive staff user is listed as failed, with the refusal', async () => {
  const t = await tenant();
  await t.add('gone', { status: 'INACTIVE' });
  await login(t.id('gone'));
  const [attempt] = othersOf(t, await t.report(NOW()));
  expect(attempt).toMatchObject({ identifier: t.id('gone'), succeeded: false, reason: 'The account is inactive or expired', user: { primaryIdentifier: t.id('gone') } });
});

test('R11.1 attempts outside the period are neither listed nor counted', async () => {
  const t = await tenant();
  await t.add('early');
  await t.add('typo');
  await login(t.id('early'));
  await login(t.id('typo'), 'wrong');
  await moveAttempts(t.id('early'), ago(2 * DAY));
  await moveAttempts(t.id('typo'), ago(3 * DAY));
  const report = await t.report(NOW());
  expect(othersOf(t, report)).toEqual([]);
  expect(report).toMatchObject({ successfulCount: 1, failedCount: 0 }); // the operator's own login
});

test('R11.1 the period includes both of its ends', async () => {
  const t = await tenant();
  for (const name of ['before', 'start', 'end', 'after']) {
    await t.add(name);
    await login(t.id(name));
  }
  await moveAttempts(t.id('before'), '2020-01-31T23:59:59.999Z');
  await moveAttempts(t.id('start'), '2020-02-01T00:00:00.000Z');
  await moveAttempts(t.id('end'), '2020-02-28T00:00:00.000Z');
  await moveAttempts(t.id('after'), '2020-02-28T00:00:00.001Z');
  const report = await t.report({ from: '2020-02-01T00:00:00.000Z', to: '2020-02-28T00:00:00.000Z' });
  expect(report.attempts.map((a: any) => a.identifier)).toEqual([t.id('end'), t.id('start')]);
  expect(report).toMatchObject({ from: '2020-02-01T00:00:00.000Z', to: '2020-02-28T00:00:00.000Z', successfulCount: 2, failedCount: 0 });
});

test('R11.1 attempts are listed newest first, at most `first`, and the counts cover the whole period', async () => {
  const t = await tenant();
  for (const [i, name] of ['one', 'two', 'three'].entries()) {
    await t.add(name);
    await login(t.id(name), i === 1 ? 'wrong' : PASSWORD);
    await moveAttempts(t.id(name), `2020-03-0${i + 1}T12:00:00.000Z`);
  }
  const report = await t.report({ from: '2020-03-01T00:00:00Z', to: '2020-03-31T00:00:00Z', first: 2 });
  expect(report.attempts.map((a: any) => [a.identifier, a.at])).toEqual([
    [t.id('three'), '2020-03-03T12:00:00.000Z'],
    [t.id('two'), '2020-03-02T12:00:00.000Z'],
  ]);
  expect(report).toMatchObject({ successfulCount: 2, failedCount: 1 });
});

test.each([0, -1, 1001])('R11.1 first: %i is refused as BAD_USER_INPUT on field first', async (first) => {
  const t = await tenant();
  const res = await t.gql({ ...NOW(), first });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
});

test('R11.1 first: 1000 is accepted', async () => {
  const t = await tenant();
  expect((await t.report({ ...NOW(), first: 1000 })).attempts).toHaveLength(1);
});

test('R11.1 a period whose from is after its to is refused as BAD_USER_INPUT on field to', async () => {
  const t = await tenant();
  const res = await t.gql({ from: '2020-03-02T00:00:00Z', to: '2020-03-01T00:00:00Z' });
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
  expect(res.data).toBeNull();
});

test('R11.1 login attempts of another institution never appear nor count', async () => {
  const t = await tenant();
  const elsewhere = await createInstitution(app.db.dataSource, `SL${++seq}`);
  await createPerson(app.db.dataSource, elsewhere, { primaryIdentifier: t.id('stranger'), roles: [['CATALOGER', 'INSTITUTION']] });
  await login(t.id('stranger'));
  await login(t.id('stranger'), 'wrong');
  const report = await t.report(NOW());
  expect(othersOf(t, report)).toEqual([]);
  expect(report).toMatchObject({ successfulCount: 1, failedCount: 0 });
});

test('R11.1 staffWithoutLoginSince lists active staff who never logged in', async () => {
  const t = await tenant();
  await t.add('never');
  const report = await t.report({ ...NOW(), since: ago(7 * DAY) });
  expect(ids(report.staffWithoutLoginSince)).toEqual([t.id('never')]);
});

test('R11.1 staffWithoutLoginSince lists staff whose last successful login is before the date', async () => {
  const t = await tenant();
  await t.add('stale');
  await login(t.id('stale'));
  await moveAttempts(t.id('stale'), ago(30 * DAY));
  const report = await t.report({ ...NOW(), since: ago(7 * DAY) });
  expect(ids(report.staffWithoutLoginSince)).toEqual([t.id('stale')]);
});

test('R11.1 staffWithoutLoginSince leaves out staff who logged in at or after the date', async () => {
  const t = await tenant();
  await t.add('recent');
  await t.add('exactly');
  await login(t.id('recent'));
  await login(t.id('exactly'));
  const since = ago(7 * DAY);
  await moveAttempts(t.id('exactly'), since);
  const report = await t.report({ ...NOW(), since });
  expect(report.staffWithoutLoginSince).toEqual([]); // the operator logged in too
});

test('R11.1 a failed login after the date is not a login: the user is still listed', async () => {
  const t = await tenant();
  await t.add('forgetful');
  await login(t.id('forgetful'), 'wrong');
  const report = await t.report({ ...NOW(), since: ago(7 * DAY) });
  expect(ids(report.staffWithoutLoginSince)).toEqual([t.id('forgetful')]);
});

test('R11.1 R4.5 staffWithoutLoginSince leaves out protected accounts', async () => {
  const t = await tenant();
  for (const pid of ['exl_impl', 'Rialto_x', 'leganto_guest']) {
    await createPerson(app.db.dataSource, t.inst, { primaryIdentifier: pid, roles: [['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION']] });
  }
  const report = await t.report({ ...NOW(), since: ago(7 * DAY) });
  expect(report.staffWithoutLoginSince).toEqual([]);
});

test('R11.1 staffWithoutLoginSince lists only ACTIVE users with a staff role in force', async () => {
  const t = await tenant();
  await t.add('patron', { recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']] });
  await t.add('instructor', { roles: [['INSTRUCTOR', 'INSTITUTION']] }); // not a staff role
  await t.add('inactive', { status: 'INACTIVE' });
  const roleOff = await t.add('roleoff');
  await app.db.dataSource.query(`UPDATE role_assignment SET is_active = false WHERE user_id = $1`, [roleOff]);
  await t.add('selector', { roles: [['SELECTOR', 'INSTITUTION']] }); // staff, though not a named-user role
  const report = await t.report({ ...NOW(), since: ago(7 * DAY) });
  expect(ids(report.staffWithoutLoginSince)).toEqual([t.id('selector')]);
});

test('R11.1 staffWithoutLoginSince is empty when noLoginSince is not given', async () => {
  const t = await tenant();
  await t.add('never');
  expect((await t.report(NOW())).staffWithoutLoginSince).toEqual([]);
});

test('R11.1 staffWithoutLoginSince never lists users of another institution', async () => {
  const t = await tenant();
  const elsewhere = await createInstitution(app.db.dataSource, `SL${++seq}`);
  await createPerson(app.db.dataSource, elsewhere, { primaryIdentifier: t.id('stranger'), roles: [['CATALOGER', 'INSTITUTION']] });
  expect((await t.report({ ...NOW(), since: ago(7 * DAY) })).staffWithoutLoginSince).toEqual([]);
});

test('R11.1 the report costs the same number of SQL statements for 2 or 20 staff and attempts', async () => {
  const measure = async (n: number) => {
    const t = await tenant();
    for (let i = 0; i < n; i++) {
      await t.add(`s${i}`);
      if (i % 2 === 0) await login(t.id(`s${i}`), 'wrong');
    }
    const before = sqlStatementCount();
    const res = await t.gql({ ...NOW(), since: ago(DAY) });
    const statements = sqlStatementCount() - before;
    expect(res.data.staffLoginReport.staffWithoutLoginSince).toHaveLength(n);
    expect(res.data.staffLoginReport.attempts).toHaveLength(1 + n / 2);
    return statements;
  };
  expect(await measure(20)).toBe(await measure(2));
});

test('R4.2 R11.1 a General System Administrator may run the staff login report', async () => {
  const t = await tenant();
  expect((await t.report(NOW())).successfulCount).toBe(1);
});

test.each(['USER_ADMINISTRATOR', 'USER_MANAGER'])('R4.2 R11.1 a %s may not run the staff login report: FORBIDDEN', async (role) => {
  const t = await tenant(role);
  const res = await t.gql(NOW());
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(res.data).toBeNull();
});
