import { sqlStatementCount } from '../../src/db/sql-logger';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD, PersonSpec } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * R4.4 named users, through the API. Each test gets an institution of its own
 * with a User Administrator operator; the operator holds a counting role, so
 * it is always one of the named users, and `others` leaves it out.
 */
let app: TestApp;
let seq = 0;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const REPORT = `{ namedUsersReport { allotment count remaining overAllotment users { user { primaryIdentifier } countingRoles reason } } }`;

interface Tenant {
  inst: InstitutionFixture;
  operator: string;
  add(spec: PersonSpec): Promise<string>;
  report(): Promise<any>;
}

async function tenant(operatorRole = 'USER_ADMINISTRATOR'): Promise<Tenant> {
  const code = `NU${++seq}`;
  const inst = await createInstitution(app.db.dataSource, code);
  const operator = `admin_${code.toLowerCase()}`;
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: operator, roles: [[operatorRole, 'INSTITUTION']] });
  const token = await app.login(operator, PASSWORD);
  return {
    inst,
    operator,
    add: (spec) => createPerson(app.db.dataSource, inst, spec),
    async report() {
      const res = await app.gql(REPORT, {}, token);
      expect(res.errors).toBeUndefined();
      return res.data.namedUsersReport;
    },
  };
}

/** The named users other than the operator. */
const others = (t: Tenant, report: any) => report.users.filter((u: any) => u.user.primaryIdentifier !== t.operator);
const otherIds = (t: Tenant, report: any) => others(t, report).map((u: any) => u.user.primaryIdentifier);

test('R4.4 a user holding only the Patron role is not a named user', async () => {
  const t = await tenant();
  await t.add({ primaryIdentifier: 'pat', recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']] });
  const report = await t.report();
  expect(otherIds(t, report)).toEqual([]);
  expect(report.count).toBe(1); // the operator alone
});

test('R4.4 a Patron who also holds Circulation Desk Operator counts, for that role', async () => {
  const t = await tenant();
  await t.add({ primaryIdentifier: 'student_worker', recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION'], ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']] });
  const report = await t.report();
  expect(others(t, report)).toEqual([{
    user: { primaryIdentifier: 'student_worker' },
    countingRoles: ['CIRCULATION_DESK_OPERATOR'],
    reason: 'ACTIVE and holds Circulation Desk Operator',
  }]);
  expect(report.count).toBe(1 + 1);
});

test('R4.4 the reason names every counting role the user holds, each once', async () => {
  const t = await tenant();
  await t.add({ primaryIdentifier: 'busy', roles: [['USER_MANAGER', 'INSTITUTION'], ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'], ['CIRCULATION_DESK_OPERATOR', 'LAW_DESK']] });
  const [busy] = others(t, await t.report());
  expect(busy.countingRoles).toEqual(['CIRCULATION_DESK_OPERATOR', 'USER_MANAGER']);
  expect(busy.reason).toBe('ACTIVE and holds Circulation Desk Operator, User Manager');
});

test('R4.4 an INACTIVE user with staff roles is not a named user', async () => {
  const t = await tenant();
  await t.add({ primaryIdentifier: 'retired', status: 'INACTIVE', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const report = await t.report();
  expect(otherIds(t, report)).toEqual([]);
  expect(report.count).toBe(1);
});

test.each(['exl_impl', 'EXL_Support', 'rialto_x', 'Rialto_Tech', 'leganto_guest', 'LEGANTO_GUEST'])(
  'R4.4 R4.5 the vendor account %s never counts, whatever its staff roles',
  async (pid) => {
    const t = await tenant();
    await t.add({ primaryIdentifier: pid, roles: [['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION'], ['USER_MANAGER', 'INSTITUTION']] });
    const report = await t.report();
    expect(otherIds(t, report)).toEqual([]);
    expect(report.count).toBe(1);
  },
);

test('R4.4 R4.5 an identifier that merely contains a vendor prefix is not protected and counts', async () => {
  const t = await tenant();
  await t.add({ primaryIdentifier: 'alex_exl_fan', roles: [['CATALOGER', 'INSTITUTION']] });
  await t.add({ primaryIdentifier: 'exlibris', roles: [['CATALOGER', 'INSTITUTION']] });
  await t.add({ primaryIdentifier: 'leganto_guest2', roles: [['CATALOGER', 'INSTITUTION']] });
  expect(otherIds(t, await t.report()).sort()).toEqual(['alex_exl_fan', 'exlibris', 'leganto_guest2']);
});

test('R4.4 a user holding only excluded roles (Instructor, Selector, Rialto, Leganto, Trial Participant) is not a named user', async () => {
  const t = await tenant();
  await t.add({
    primaryIdentifier: 'prof',
    roles: [['PATRON', 'INSTITUTION'], ['INSTRUCTOR', 'INSTITUTION'], ['SELECTOR', 'INSTITUTION'], ['SUPER_SELECTOR', 'INSTITUTION'],
      ['SELECTOR_LIMITED', 'INSTITUTION'], ['RIALTO_MANAGER', 'INSTITUTION'], ['RIALTO_ADMINISTRATOR', 'INSTITUTION'],
      ['LEGANTO_COURSE_OPERATOR', 'INSTITUTION'], ['LEGANTO_INTERFACE_ADMINISTRATOR', 'INSTITUTION'], ['TRIAL_PARTICIPANT', 'INSTITUTION']],
  });
  const report = await t.report();
  expect(otherIds(t, report)).toEqual([]);
  expect(report.count).toBe(1);
});

test('R4.4 a user holding an excluded role plus another staff role counts, for the other role only', async () => {
  const t = await tenant();
  await t.add({ primaryIdentifier: 'liaison', roles: [['INSTRUCTOR', 'INSTITUTION'], ['SELECTOR', 'INSTITUTION'], ['CATALOGER', 'INSTITUTION']] });
  const report = await t.report();
  expect(others(t, report)).toEqual([{ user: { primaryIdentifier: 'liaison' }, countingRoles: ['CATALOGER'], reason: 'ACTIVE and holds Cataloger' }]);
  expect(report.count).toBe(2);
});

test('R4.4 an inactive role assignment does not make a user count', async () => {
  const t = await tenant();
  const id = await t.add({ primaryIdentifier: 'dormant', roles: [['PATRON', 'INSTITUTION'], ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']] });
  await app.db.dataSource.query(`UPDATE role_assignment SET is_active = false WHERE user_id = $1 AND role_type = 'CIRCULATION_DESK_OPERATOR'`, [id]);
  const report = await t.report();
  expect(otherIds(t, report)).toEqual([]);
  expect(report.count).toBe(1);
});

test('R4.4 a role past its expiry date does not make a user count', async () => {
  const t = await tenant();
  const id = await t.add({ primaryIdentifier: 'lapsed', roles: [['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']] });
  await app.db.dataSource.query(`UPDATE role_assignment SET expiry_date = current_date - 1 WHERE user_id = $1`, [id]);
  expect(otherIds(t, await t.report())).toEqual([]);
});

test('R4.4 within the allotment: remaining is allotment minus count, not over', async () => {
  const t = await tenant();
  await app.db.dataSource.query(`UPDATE institution SET named_user_allotment = 10 WHERE id = $1`, [t.inst.id]);
  await t.add({ roles: [['USER_MANAGER', 'INSTITUTION']] });
  await t.add({ roles: [['CATALOGER', 'INSTITUTION']] });
  await t.add({ recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']] });
  const report = await t.report();
  expect(report).toMatchObject({ allotment: 10, count: 3, remaining: 7, overAllotment: false });
  expect(report.users).toHaveLength(3);
});

test('R4.4 exactly at the allotment is not over it', async () => {
  const t = await tenant();
  await app.db.dataSource.query(`UPDATE institution SET named_user_allotment = 2 WHERE id = $1`, [t.inst.id]);
  await t.add({ roles: [['USER_MANAGER', 'INSTITUTION']] });
  expect(await t.report()).toMatchObject({ allotment: 2, count: 2, remaining: 0, overAllotment: false });
});

test('R4.4 over the allotment: remaining is negative and overAllotment is true', async () => {
  const t = await tenant();
  await app.db.dataSource.query(`UPDATE institution SET named_user_allotment = 2 WHERE id = $1`, [t.inst.id]);
  for (let i = 0; i < 3; i++) await t.add({ roles: [['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']] });
  expect(await t.report()).toMatchObject({ allotment: 2, count: 4, remaining: -2, overAllotment: true });
});

test('R4.4 users of another institution never appear nor count', async () => {
  const t = await tenant();
  const elsewhere = await createInstitution(app.db.dataSource, `NU${++seq}`);
  await createPerson(app.db.dataSource, elsewhere, { primaryIdentifier: 'other_staff', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await t.add({ primaryIdentifier: 'own_staff', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const report = await t.report();
  expect(otherIds(t, report)).toEqual(['own_staff']);
  expect(report.count).toBe(2);
});

test('R4.4 the listed users are full User objects, sorted by name', async () => {
  const t = await tenant();
  await t.add({ primaryIdentifier: 'zed', lastName: 'Zimmer', roles: [['CATALOGER', 'INSTITUTION']] });
  await t.add({ primaryIdentifier: 'abe', lastName: 'Abbott', roles: [['CATALOGER', 'INSTITUTION']] });
  const res = await app.gql(`{ namedUsersReport { users { user { primaryIdentifier displayName status protected roles { roleType countsAsNamedUser } } } } }`, {},
    await app.login(t.operator, PASSWORD));
  const users = res.data.namedUsersReport.users.map((u: any) => u.user).filter((u: any) => u.primaryIdentifier !== t.operator);
  expect(users).toEqual([
    { primaryIdentifier: 'abe', displayName: 'Test Abbott', status: 'ACTIVE', protected: false, roles: [{ roleType: 'CATALOGER', countsAsNamedUser: true }] },
    { primaryIdentifier: 'zed', displayName: 'Test Zimmer', status: 'ACTIVE', protected: false, roles: [{ roleType: 'CATALOGER', countsAsNamedUser: true }] },
  ]);
});

test('R4.4 the report costs the same number of SQL statements for 2 or 20 named users', async () => {
  const measure = async (n: number) => {
    const t = await tenant();
    for (let i = 0; i < n; i++) await t.add({ roles: [['PATRON', 'INSTITUTION'], ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']] });
    const token = await app.login(t.operator, PASSWORD);
    const before = sqlStatementCount();
    const res = await app.gql(`{ namedUsersReport { count users { user { displayName roles { roleType } } countingRoles } } }`, {}, token);
    const statements = sqlStatementCount() - before;
    expect(res.data.namedUsersReport.count).toBe(n + 1);
    return statements;
  };
  expect(await measure(20)).toBe(await measure(2));
});

test.each(['USER_ADMINISTRATOR', 'GENERAL_SYSTEM_ADMINISTRATOR'])('R4.4 a %s may run the named-user report', async (role) => {
  const t = await tenant(role);
  expect((await t.report()).count).toBe(1);
});

test.each(['USER_MANAGER', 'CIRCULATION_DESK_MANAGER', 'FULFILLMENT_SERVICES_OPERATOR'])('R4.4 a %s may not run the named-user report: FORBIDDEN', async (role) => {
  const code = `NU${++seq}`;
  const inst = await createInstitution(app.db.dataSource, code);
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: `op_${code.toLowerCase()}`, roles: [[role, 'INSTITUTION']] });
  const res = await app.gql(REPORT, {}, await app.login(`op_${code.toLowerCase()}`, PASSWORD));
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(res.data).toBeNull();
});

test('R4.4 the named-user report needs a token: UNAUTHENTICATED without one', async () => {
  const res = await app.gql(REPORT);
  expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
});
