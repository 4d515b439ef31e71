import { createInstitution, createPatron, createPerson, InstitutionFixture, loginOperators, PASSWORD } from '../support/fixtures';
import { givenOwnedItem, OwnerCode } from '../support/owned-items';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 13 item 5 (R6.3, R5.2): the users list filters by statistic category and type, with library independence
 * applied in the statement: a statistic owned by a library outside the operator's scopes neither matches nor shows
 * in totalCount.
 */

let app: TestApp;
let inst: InstitutionFixture;
let open: InstitutionFixture;
const tokens: Record<string, string> = {};
const db = () => app.db.dataSource;
/** The patrons of this file by name: their primary identifiers. */
const ids: Record<string, string> = {};

const USERS = `query($f: UsersFilter, $first: Int, $after: String) {
  users(filter: $f, first: $first, after: $after, sort: { field: PRIMARY_IDENTIFIER }) {
    totalCount edges { node { primaryIdentifier statistics { category } } } pageInfo { hasNextPage endCursor }
  }
}`;

async function given(institution: InstitutionFixture, name: string, statistics: [type: string, category: string, owner: OwnerCode][]) {
  ids[name] = await createPatron(db(), institution, { primaryIdentifier: name });
  for (const [type, category, owner] of statistics) {
    await givenOwnedItem(db(), institution, 'user_statistic', ids[name], owner, { category_type: type, category });
  }
}

/** The primary identifiers a filter finds for an operator, and its totalCount. */
async function search(token: string, filter: Record<string, unknown>) {
  const res = await app.gql(USERS, { f: filter, first: 100 }, token);
  expect(res.errors).toBeUndefined();
  return { found: res.data.users.edges.map((e: { node: { primaryIdentifier: string } }) => e.node.primaryIdentifier), totalCount: res.data.users.totalCount };
}

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  Object.assign(tokens, await loginOperators(app, inst, {
    um_inst: ['USER_MANAGER', 'INSTITUTION'],
    um_main: ['USER_MANAGER', 'MAIN'],
    circ_main_desk: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
  }));
  await given(inst, 's_main', [['DEPT', 'PHYSICS', 'MAIN']]);
  await given(inst, 's_law_only', [['DEPT', 'PHYSICS', 'LAW'], ['DEPT', 'CHEMISTRY', 'MAIN']]);
  await given(inst, 's_institution', [['DEPT', 'PHYSICS', null]]);
  await given(inst, 's_faculty', [['FACULTY', 'PHYSICS', 'MAIN']]);
  await given(inst, 's_chemistry', [['DEPT', 'CHEMISTRY', 'MAIN']]);
  await given(inst, 's_none', []);
  // Library independence off: every operator sees every statistic (R5.2 applies only when it is on).
  open = await createInstitution(db(), 'OPEN', { libraryIndependence: false });
  Object.assign(tokens, await loginOperators(app, open, { open_um_main: ['USER_MANAGER', 'MAIN'] }));
  await given(open, 'o_law_only', [['DEPT', 'PHYSICS', 'LAW']]);
});
afterAll(() => app.close());

test('R6.3 the users list filters by statistic category', async () => {
  expect(await search(tokens.um_inst, { statisticCategory: 'PHYSICS' })).toEqual({
    found: ['s_faculty', 's_institution', 's_law_only', 's_main'], totalCount: 4,
  });
});

test('R6.3 by category and category type: one statistic must have both', async () => {
  expect(await search(tokens.um_inst, { statisticCategory: 'PHYSICS', statisticCategoryType: 'DEPT' })).toEqual({
    found: ['s_institution', 's_law_only', 's_main'], totalCount: 3,
  });
  expect(await search(tokens.um_inst, { statisticCategory: 'PHYSICS', statisticCategoryType: 'FACULTY' })).toEqual({ found: ['s_faculty'], totalCount: 1 });
  // s_law_only has a DEPT statistic and a CHEMISTRY one, never a DEPT CHEMISTRY one in LAW: still one statistic matches.
  expect(await search(tokens.um_inst, { statisticCategory: 'CHEMISTRY', statisticCategoryType: 'FACULTY' })).toEqual({ found: [], totalCount: 0 });
});

test('R6.3 by category type alone', async () => {
  expect(await search(tokens.um_inst, { statisticCategoryType: 'DEPT' })).toEqual({
    found: ['s_chemistry', 's_institution', 's_law_only', 's_main'], totalCount: 4,
  });
});

test('R2.3 categories match exactly, never partly or in another case', async () => {
  expect(await search(tokens.um_inst, { statisticCategory: 'PHYS' })).toEqual({ found: [], totalCount: 0 });
  expect(await search(tokens.um_inst, { statisticCategory: 'physics' })).toEqual({ found: [], totalCount: 0 });
  expect(await search(tokens.um_inst, { statisticCategory: 'PHYSIC%' })).toEqual({ found: [], totalCount: 0 });
});

test('R5.2 a library-scoped operator does not match a user whose only such statistic belongs to another library, and totalCount leaves it out', async () => {
  expect(await search(tokens.um_main, { statisticCategory: 'PHYSICS' })).toEqual({
    found: ['s_faculty', 's_institution', 's_main'], totalCount: 3,
  });
  expect(await search(tokens.um_main, { statisticCategory: 'PHYSICS', statisticCategoryType: 'DEPT' })).toEqual({
    found: ['s_institution', 's_main'], totalCount: 2,
  });
});

test('R5.2 a desk-scoped operator sees what its library owns, and no more', async () => {
  expect(await search(tokens.circ_main_desk, { statisticCategory: 'PHYSICS', statisticCategoryType: 'DEPT' })).toEqual({
    found: ['s_institution', 's_main'], totalCount: 2,
  });
});

test('R5.2 a library-scoped operator who is also a patron (the Patron role needs no scope) does not match another library\'s statistic', async () => {
  await createPerson(db(), inst, { primaryIdentifier: 'um_main_patron', roles: [['USER_MANAGER', 'MAIN'], ['PATRON', 'INSTITUTION']] });
  const token = await app.login('um_main_patron', PASSWORD);
  expect(await search(token, { statisticCategory: 'PHYSICS', statisticCategoryType: 'DEPT' })).toEqual({
    found: ['s_institution', 's_main'], totalCount: 2,
  });
  const res = await app.gql(USERS, { f: { statisticCategory: 'CHEMISTRY' }, first: 100 }, token);
  expect(res.data.users.edges.find((e: { node: { primaryIdentifier: string } }) => e.node.primaryIdentifier === 's_law_only').node.statistics)
    .toEqual([{ category: 'CHEMISTRY' }]);
});

test('R5.2 the institution-scoped operator does match the user through the other library\'s statistic', async () => {
  expect((await search(tokens.um_inst, { statisticCategory: 'PHYSICS', statisticCategoryType: 'DEPT' })).found).toContain('s_law_only');
});

test('R5.2 the hidden statistic reveals itself nowhere: the user is found by another statistic with its hidden one left out', async () => {
  const res = await app.gql(USERS, { f: { statisticCategory: 'CHEMISTRY' }, first: 100 }, tokens.um_main);
  expect(res.data.users.edges.map((e: { node: unknown }) => e.node)).toEqual([
    { primaryIdentifier: 's_chemistry', statistics: [{ category: 'CHEMISTRY' }] },
    { primaryIdentifier: 's_law_only', statistics: [{ category: 'CHEMISTRY' }] },
  ]);
});

test('R5.2 with library independence off, a library-scoped operator matches every owner\'s statistic', async () => {
  expect(await search(tokens.open_um_main, { statisticCategory: 'PHYSICS' })).toEqual({ found: ['o_law_only'], totalCount: 1 });
});

test('R5 another institution\'s statistics never match', async () => {
  expect((await search(tokens.um_inst, { statisticCategory: 'PHYSICS' })).found).not.toContain('o_law_only');
});

test('R6.3 with the coarse filters too, totalCount is counted over the matching users, not the counters', async () => {
  expect(await search(tokens.um_main, { recordType: 'PUBLIC', status: 'ACTIVE_NOT_EXPIRED', statisticCategory: 'PHYSICS' })).toEqual({
    found: ['s_faculty', 's_institution', 's_main'], totalCount: 3,
  });
});

test('R6.3 cursor paging with the filter: every match once, in order, with the same totalCount on every page', async () => {
  const seen: string[] = [];
  const counts: number[] = [];
  let after: string | null = null;
  for (let page = 0; page < 10; page++) {
    const res: any = await app.gql(USERS, { f: { statisticCategory: 'PHYSICS' }, first: 1, after }, tokens.um_main);
    expect(res.errors).toBeUndefined();
    seen.push(...res.data.users.edges.map((e: { node: { primaryIdentifier: string } }) => e.node.primaryIdentifier));
    counts.push(res.data.users.totalCount);
    if (!res.data.users.pageInfo.hasNextPage) break;
    after = res.data.users.pageInfo.endCursor;
  }
  expect(seen).toEqual(['s_faculty', 's_institution', 's_main']);
  expect(new Set(counts)).toEqual(new Set([3]));
});

test.each([
  ['a category over 50 characters', { statisticCategory: 'C'.repeat(51) }, 'filter.statisticCategory'],
  ['a category type over 100 characters', { statisticCategoryType: 'T'.repeat(101) }, 'filter.statisticCategoryType'],
  ['a NUL byte in the category', { statisticCategory: 'PHY\u0000SICS' }, 'filter.statisticCategory'],
  ['a zero-width space in the category type', { statisticCategoryType: 'DE\u200bPT' }, 'filter.statisticCategoryType'],
])('input hygiene: %s is BAD_USER_INPUT naming it', async (_what, filter, field) => {
  const res = await app.gql(USERS, { f: filter, first: 10 }, tokens.um_inst);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
});

test('R6.3 surrounding white space of the codes is trimmed', async () => {
  expect(await search(tokens.um_inst, { statisticCategory: ' PHYSICS ', statisticCategoryType: ' FACULTY' })).toEqual({ found: ['s_faculty'], totalCount: 1 });
});
