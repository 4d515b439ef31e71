import { QUERY_LIMITS } from '../../src/server/query-limits';
import { createInstitution, createPerson, InstitutionFixture, loginOperators, PersonSpec } from '../support/fixtures';
import { givenOwnedItem, OwnerCode } from '../support/owned-items';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * userCounts (issue 14), through the API, on one institution with a known mix of users (SUBJECTS) and four operators:
 * each operator is a STAFF, INTERNAL, ACTIVE user without expiry date, user group, campus or job category.
 */
let app: TestApp;
let inst: InstitutionFixture;
let tokens: Record<string, string>;

interface Subject extends PersonSpec {
  userGroup?: string;
  campus?: string;
  jobCategory?: string;
  /** Roles not in force: [roleType, scope, why]. */
  lapsedRoles?: [string, string, 'expired' | 'inactive'][];
  blocks?: { owner: OwnerCode; expired?: boolean }[];
  statistics?: { owner: OwnerCode; category: string }[];
}

const FUTURE = '2099-06-30';
const PAST = '2020-01-15';

const SUBJECTS: Record<string, Subject> = {
  ann: { recordType: 'PUBLIC', expiryDate: FUTURE, userGroup: 'UNDERGRAD', campus: 'NORTH', roles: [['PATRON', 'INSTITUTION']],
    blocks: [{ owner: 'MAIN' }], statistics: [{ owner: 'MAIN', category: 'SPORT' }] },
  bob: { recordType: 'PUBLIC', accountType: 'EXTERNAL', expiryDate: FUTURE, userGroup: 'UNDERGRAD', campus: 'SOUTH', roles: [['PATRON', 'INSTITUTION']],
    blocks: [{ owner: 'LAW' }], statistics: [{ owner: 'LAW', category: 'SPORT' }] },
  cat: { recordType: 'PUBLIC', expiryDate: PAST, userGroup: 'UNDERGRAD', campus: 'NORTH', roles: [['PATRON', 'INSTITUTION']], blocks: [{ owner: null }] },
  dan: { recordType: 'PUBLIC', status: 'INACTIVE', userGroup: 'GRAD', campus: 'NORTH', roles: [['PATRON', 'INSTITUTION']],
    blocks: [{ owner: 'LAW', expired: true }] },
  eve: { recordType: 'STAFF', userGroup: 'STAFF', campus: 'NORTH', jobCategory: 'LIBRARIAN',
    roles: [['PATRON', 'INSTITUTION'], ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'], ['CIRCULATION_DESK_OPERATOR', 'LAW_DESK']],
    statistics: [{ owner: 'MAIN', category: 'MUSIC' }] },
  fay: { recordType: 'STAFF', accountType: 'INTERNAL_WITH_EXTERNAL_AUTH', expiryDate: '2099-07-01', userGroup: 'STAFF', campus: 'SOUTH',
    jobCategory: 'LIBRARIAN', lapsedRoles: [['CATALOGER', 'INSTITUTION', 'expired']] },
  gus: { recordType: 'STAFF', userGroup: 'STAFF', campus: 'SOUTH', jobCategory: 'LIBRARIAN', roles: [['USER_MANAGER', 'INSTITUTION']],
    lapsedRoles: [['CATALOGER', 'MAIN', 'inactive']] },
  hal: { recordType: 'CONTACT', withPassword: false },
};
const OPERATORS = 4;
const TOTAL = Object.keys(SUBJECTS).length + OPERATORS;

/** Writes a subject: the person, then what createPerson does not set, as the SIS or earlier edits would have left it. */
async function givenSubject(target: InstitutionFixture, name: string, s: Subject): Promise<string> {
  const db = app.db.dataSource;
  const lapsed = (s.lapsedRoles ?? []).map(([roleType, scope]): [string, string] => [roleType, scope]);
  const id = await createPerson(db, target, { primaryIdentifier: name, lastName: name, ...s, roles: [...(s.roles ?? []), ...lapsed] });
  await db.query(`UPDATE app_user SET user_group = $2, campus = $3, job_category = $4 WHERE id = $1`,
    [id, s.userGroup ?? null, s.campus ?? null, s.jobCategory ?? null]);
  for (const [roleType, , why] of s.lapsedRoles ?? []) {
    const lapse = why === 'expired' ? `expiry_date = '2020-01-01'` : 'is_active = false';
    await db.query(`UPDATE role_assignment SET ${lapse} WHERE user_id = $1 AND role_type = $2`, [id, roleType]);
  }
  for (const block of s.blocks ?? []) {
    const expiry = block.expired ? '2020-01-01T00:00:00Z' : null;
    await givenOwnedItem(db, target, 'user_block', id, block.owner, { block_type: 'GENERAL', created_by: 'test', expiry_date: expiry });
  }
  for (const stat of s.statistics ?? []) {
    await givenOwnedItem(db, target, 'user_statistic', id, stat.owner, { category_type: 'INTEREST', category: stat.category });
  }
  return id;
}

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(app.db.dataSource, 'UC');
  for (const [name, s] of Object.entries(SUBJECTS)) await givenSubject(inst, name, s);
  // A purged user's stub (R10.3) is no one.
  const purged = await givenSubject(inst, 'purged', SUBJECTS.ann);
  await app.db.dataSource.query(`UPDATE app_user SET purged_at = now() WHERE id = $1`, [purged]);
  // Another institution's users, in groups and campuses of their own.
  const other = await createInstitution(app.db.dataSource, 'UC_OTHER');
  for (const [name, s] of Object.entries(SUBJECTS)) await givenSubject(other, name, { ...s, userGroup: 'ELSEWHERE', campus: 'FAR' });
  tokens = await loginOperators(app, inst, {
    admin: ['USER_ADMINISTRATOR', 'INSTITUTION'],
    lawadmin: ['USER_ADMINISTRATOR', 'LAW'],
    lawanalyst: ['DESIGN_ANALYTICS', 'LAW'],
    desk: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
  });
});
afterAll(() => app?.close());

const ROW_FIELDS = 'recordType accountType activeNotExpired userGroup campus jobCategory roleType expiryMonth count';
const USER_COUNTS = `query($filter: UsersFilter, $groupBy: [UserDimension!]!) { userCounts(filter: $filter, groupBy: $groupBy) { ${ROW_FIELDS} } }`;
const DIMENSIONS = ['RECORD_TYPE', 'ACCOUNT_TYPE', 'ACTIVE_NOT_EXPIRED', 'USER_GROUP', 'CAMPUS', 'JOB_CATEGORY', 'ROLE_TYPE', 'EXPIRY_MONTH'];

async function userCounts(groupBy: string[], filter: Record<string, unknown> = {}, token = tokens.admin): Promise<any[]> {
  const res = await app.gql(USER_COUNTS, { filter, groupBy }, token);
  expect(res.errors).toBeUndefined();
  return res.data.userCounts;
}

/** The first error of a refused userCounts; `token` undefined: unauthenticated. */
async function refusal(groupBy: string[], token: string | undefined, filter: Record<string, unknown> = {}) {
  const res = await app.gql(USER_COUNTS, { filter, groupBy }, token);
  expect(res.data).toBeFalsy();
  return res.errors![0];
}

/** A row as the API gives it: the fields not grouped by are null. */
const row = (values: Record<string, unknown>) => ({
  recordType: null, accountType: null, activeNotExpired: null, userGroup: null, campus: null, jobCategory: null, roleType: null, expiryMonth: null,
  ...values,
});

const total = (rows: { count: number }[]) => rows.reduce((sum, r) => sum + r.count, 0);

test('without dimensions, one row: every user of the institution, purged users left out', async () => {
  expect(await userCounts([])).toEqual([row({ count: TOTAL })]);
});

test.each(DIMENSIONS.filter((d) => d !== 'ROLE_TYPE'))('the rows grouped by %s add up to the ungrouped total', async (dimension) => {
  expect(total(await userCounts([dimension]))).toBe(TOTAL);
});

test('grouped by campus and user group: one row per pair that occurs, sorted in groupBy order, nulls last', async () => {
  expect(await userCounts(['CAMPUS', 'USER_GROUP'])).toEqual([
    row({ campus: 'NORTH', userGroup: 'GRAD', count: 1 }), // dan
    row({ campus: 'NORTH', userGroup: 'STAFF', count: 1 }), // eve
    row({ campus: 'NORTH', userGroup: 'UNDERGRAD', count: 2 }), // ann, cat
    row({ campus: 'SOUTH', userGroup: 'STAFF', count: 2 }), // fay, gus
    row({ campus: 'SOUTH', userGroup: 'UNDERGRAD', count: 1 }), // bob
    row({ count: 1 + OPERATORS }), // hal and the operators
  ]);
});

test('grouped by record type, account type and active-not-expired (R1.5: inactive or expired is false)', async () => {
  expect(await userCounts(['RECORD_TYPE', 'ACCOUNT_TYPE', 'ACTIVE_NOT_EXPIRED'])).toEqual([
    row({ recordType: 'CONTACT', accountType: 'INTERNAL', activeNotExpired: true, count: 1 }), // hal
    row({ recordType: 'PUBLIC', accountType: 'EXTERNAL', activeNotExpired: true, count: 1 }), // bob
    row({ recordType: 'PUBLIC', accountType: 'INTERNAL', activeNotExpired: false, count: 2 }), // cat expired, dan inactive
    row({ recordType: 'PUBLIC', accountType: 'INTERNAL', activeNotExpired: true, count: 1 }), // ann
    row({ recordType: 'STAFF', accountType: 'INTERNAL', activeNotExpired: true, count: 2 + OPERATORS }), // eve, gus
    row({ recordType: 'STAFF', accountType: 'INTERNAL_WITH_EXTERNAL_AUTH', activeNotExpired: true, count: 1 }), // fay
  ]);
});

test('ROLE_TYPE counts a user holding two role types in both rows, once per type whatever its scopes', async () => {
  // eve: Patron, and Circulation Desk Operator at two desks.
  expect(await userCounts(['ROLE_TYPE'], { name: 'eve' })).toEqual([
    row({ roleType: 'CIRCULATION_DESK_OPERATOR', count: 1 }),
    row({ roleType: 'PATRON', count: 1 }),
  ]);
});

test('ROLE_TYPE counts only roles in force: a user whose only role expired is in the null row, an inactive role is no row', async () => {
  // fay: Cataloger expired; gus: User Manager, and Cataloger inactive.
  expect(await userCounts(['ROLE_TYPE'], { recordType: 'STAFF', campus: 'SOUTH' })).toEqual([
    row({ roleType: 'USER_MANAGER', count: 1 }),
    row({ roleType: null, count: 1 }),
  ]);
});

test('ROLE_TYPE over the institution: a row per role type in force and the users holding none last', async () => {
  expect(await userCounts(['ROLE_TYPE'])).toEqual([
    row({ roleType: 'CIRCULATION_DESK_OPERATOR', count: 2 }), // eve, desk
    row({ roleType: 'DESIGN_ANALYTICS', count: 1 }), // lawanalyst
    row({ roleType: 'PATRON', count: 5 }), // ann, bob, cat, dan, eve
    row({ roleType: 'USER_ADMINISTRATOR', count: 2 }), // admin, lawadmin
    row({ roleType: 'USER_MANAGER', count: 1 }), // gus
    row({ roleType: null, count: 2 }), // fay, hal
  ]);
});

test('EXPIRY_MONTH groups by the month of the expiry date, users who never expire last', async () => {
  expect(await userCounts(['EXPIRY_MONTH'])).toEqual([
    row({ expiryMonth: '2020-01', count: 1 }), // cat
    row({ expiryMonth: '2099-06', count: 2 }), // ann, bob
    row({ expiryMonth: '2099-07', count: 1 }), // fay
    row({ expiryMonth: null, count: 4 + OPERATORS }), // dan, eve, gus, hal
  ]);
});

const FILTERS: Record<string, unknown>[] = [
  { recordType: 'PUBLIC', status: 'ACTIVE_NOT_EXPIRED' },
  { status: 'INACTIVE_OR_EXPIRED' },
  { accountType: 'INTERNAL', userGroup: 'STAFF' },
  { campus: 'NORTH', jobCategory: 'LIBRARIAN' },
  { roleType: 'PATRON' },
  { name: 'an' },
  { expiringBefore: '2099-07-01' },
  { hasActiveBlock: true },
  { hasActiveBlock: false },
  { statisticCategory: 'SPORT' },
  { statisticCategoryType: 'INTEREST' },
];

/** users { totalCount } with the same filter, by the same operator. */
async function listTotal(filter: Record<string, unknown>, token: string): Promise<number> {
  const res = await app.gql(`query($filter: UsersFilter) { users(filter: $filter) { totalCount } }`, { filter }, token);
  expect(res.errors).toBeUndefined();
  return res.data.users.totalCount;
}

test.each(FILTERS.map((f) => [JSON.stringify(f), f]))('the filter %s counts what users { totalCount } counts, institution-wide', async (_, filter) => {
  expect((await userCounts([], filter, tokens.admin))[0].count).toBe(await listTotal(filter, tokens.admin));
});

test.each(FILTERS.map((f) => [JSON.stringify(f), f]))('the filter %s counts what users { totalCount } counts, LAW-scoped (R5.2)', async (_, filter) => {
  expect((await userCounts([], filter, tokens.lawadmin))[0].count).toBe(await listTotal(filter, tokens.lawadmin));
});

test('R5.2 a LAW-scoped analyst does not count a user with only a MAIN-owned active block', async () => {
  // Active blocks: ann MAIN, bob LAW, cat the institution's.
  expect((await userCounts([], { hasActiveBlock: true }, tokens.admin))[0].count).toBe(3);
  expect((await userCounts([], { hasActiveBlock: true }, tokens.lawanalyst))[0].count).toBe(2);
});

test('R5.2 a LAW-scoped analyst does not count a user with only a MAIN-owned statistic', async () => {
  // SPORT: ann MAIN, bob LAW.
  expect((await userCounts([], { statisticCategory: 'SPORT' }, tokens.admin))[0].count).toBe(2);
  expect((await userCounts([], { statisticCategory: 'SPORT' }, tokens.lawanalyst))[0].count).toBe(1);
});

test('a filter that matches no one gives one row of 0 without dimensions and no rows with some', async () => {
  expect(await userCounts([], { userGroup: 'NOBODY' })).toEqual([row({ count: 0 })]);
  expect(await userCounts(['CAMPUS'], { userGroup: 'NOBODY' })).toEqual([]);
});

test("another institution's users are never counted", async () => {
  const groups = await userCounts(['USER_GROUP', 'CAMPUS']);
  expect(groups.some((r) => r.userGroup === 'ELSEWHERE' || r.campus === 'FAR')).toBe(false);
  expect(total(groups)).toBe(TOTAL);
});

test('refused without report.analytics: a Circulation Desk Operator gets FORBIDDEN', async () => {
  expect((await refusal([], tokens.desk)).extensions?.code).toBe('FORBIDDEN');
});

test('refused without authentication: UNAUTHENTICATED', async () => {
  expect((await refusal([], undefined)).extensions?.code).toBe('UNAUTHENTICATED');
});

test('four dimensions are BAD_USER_INPUT naming groupBy', async () => {
  const error = await refusal(['RECORD_TYPE', 'ACCOUNT_TYPE', 'CAMPUS', 'USER_GROUP'], tokens.admin);
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'groupBy' });
});

test('a dimension named twice is BAD_USER_INPUT naming groupBy', async () => {
  const error = await refusal(['CAMPUS', 'USER_GROUP', 'CAMPUS'], tokens.admin);
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'groupBy' });
});

test('a name search of more than five words is refused as in the users list', async () => {
  const error = await refusal([], tokens.admin, { name: 'a b c d e f' });
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.name' });
});

test('more than 10,000 rows are refused as BAD_USER_INPUT naming groupBy; a narrower filter is answered', async () => {
  const bulk = await createInstitution(app.db.dataSource, 'UC_BULK');
  await app.db.dataSource.query(
    `INSERT INTO app_user (institution_id, record_type, account_type, primary_identifier, first_name, last_name, status, user_group, created_by, updated_by)
     SELECT $1, 'PUBLIC', 'INTERNAL', 'bulk' || i, 'Bulk', 'User', 'ACTIVE', 'G' || i, 'test', 'test' FROM generate_series(1, 10001) i`,
    [bulk.id],
  );
  const { analyst } = await loginOperators(app, bulk, { analyst: ['DESIGN_ANALYTICS', 'INSTITUTION'] });
  const error = await refusal(['USER_GROUP'], analyst);
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'groupBy' });
  expect(error.message).toMatch(/group by fewer dimensions or narrow the filter/);
  expect(await userCounts(['USER_GROUP'], { recordType: 'PUBLIC', userGroup: 'G7' }, analyst)).toEqual([row({ userGroup: 'G7', count: 1 })]);
});

test('the cost limit counts each dimension: three userCounts of three dimensions are refused, of one dimension answered', async () => {
  const three = (groupBy: string) => `{ ${['a', 'b', 'c'].map((alias) => `${alias}: userCounts(groupBy: ${groupBy}) { ${ROW_FIELDS} }`).join(' ')} }`;
  const refused = await app.gql(three('[RECORD_TYPE, CAMPUS, USER_GROUP]'), {}, tokens.admin);
  expect(refused.errors?.[0].extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: QUERY_LIMITS.maxCost });
  expect(refused.errors?.[0].extensions?.cost).toBeGreaterThan(QUERY_LIMITS.maxCost);
  const answered = await app.gql(three('[CAMPUS]'), {}, tokens.admin);
  expect(answered.errors).toBeUndefined();
  expect(total(answered.data.a)).toBe(TOTAL);
});
