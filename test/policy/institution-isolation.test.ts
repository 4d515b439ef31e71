import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * One deployment serves a network of institutions: an operator of one never
 * reads or changes another's users, roles, profiles, fines or reports, even
 * with the other's ids in hand.
 */

let app: TestApp;
let mine: InstitutionFixture;
let theirs: InstitutionFixture;
let admin: string;
const their = { userId: '', roleId: '', profileId: '' };
const db = () => app.db.dataSource;

beforeAll(async () => {
  app = await startTestApp();
  mine = await createInstitution(db(), 'MINE');
  theirs = await createInstitution(db(), 'THEIRS');
  await createPerson(db(), mine, { primaryIdentifier: 'admin_mine', roles: [['USER_ADMINISTRATOR', 'INSTITUTION'], ['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION']] });
  await createPerson(db(), mine, { primaryIdentifier: 'shared_name_mine', firstName: 'Zebulon', recordType: 'PUBLIC', withPassword: false, identifiers: [['BARCODE', 'MINE-1']] });
  their.userId = await createPerson(db(), theirs, {
    primaryIdentifier: 'their_user', firstName: 'Zebulon', recordType: 'STAFF', identifiers: [['BARCODE', 'THEIRS-1']],
    roles: [['CATALOGER', 'INSTITUTION'], ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']],
  });
  [{ id: their.roleId }] = await db().query(`SELECT id FROM role_assignment WHERE user_id = $1 LIMIT 1`, [their.userId]);
  [{ id: their.profileId }] = await db().query(`INSERT INTO role_profile (institution_id, name) VALUES ($1, 'Theirs') RETURNING id`, [theirs.id]);
  await db().query(`INSERT INTO fine_fee (institution_id, user_id, fine_type, original_amount, remaining_amount, created_by)
                    VALUES ($1, $2, 'OVERDUEFINE', '5.00', '5.00', 'test')`, [theirs.id, their.userId]);
  await db().query(`INSERT INTO login_attempt (institution_id, user_id, identifier, succeeded) VALUES ($1, $2, 'their_user', true)`, [theirs.id, their.userId]);
  admin = await app.login('admin_mine', PASSWORD);
});
afterAll(() => app.close());

test('user(id) of another institution is null', async () => {
  expect((await app.gql(`query($id: ID!) { user(id: $id) { id } }`, { id: their.userId }, admin)).data.user).toBeNull();
});

test('userByIdentifier never finds another institution by primary or additional identifier', async () => {
  for (const value of ['their_user', 'THEIRS-1']) {
    expect((await app.gql(`query($v: String!) { userByIdentifier(value: $v) { id } }`, { v: value }, admin)).data.userByIdentifier).toBeNull();
  }
});

test('users lists, filters and counts only the own institution', async () => {
  const res = await app.gql(`{ users(first: 100, filter: { name: "zebulon" }) { totalCount edges { node { primaryIdentifier } } } }`, {}, admin);
  expect(res.data.users).toEqual({ totalCount: 1, edges: [{ node: { primaryIdentifier: 'shared_name_mine' } }] });
});

test('role profiles, rules and libraries of another institution are not listed', async () => {
  const res = await app.gql(`{ roleProfiles { name } roleAssignmentRules { id } libraries { id } }`, {}, admin);
  expect(res.data.roleProfiles).toEqual([]);
  expect(res.data.libraries.map((l: { id: string }) => l.id).sort()).toEqual(Object.values(mine.libraries).map((l) => l.id).sort());
});

test('reports count only the own institution', async () => {
  const res = await app.gql(`{ namedUsersReport { users { user { primaryIdentifier } } }
    staffLoginReport(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") { successfulCount } }`, {}, admin);
  expect(res.data.namedUsersReport.users.map((u: { user: { primaryIdentifier: string } }) => u.user.primaryIdentifier)).toEqual(['admin_mine']);
  expect(res.data.staffLoginReport.successfulCount).toBe(1);
});

test('assignRole to a user of another institution is NOT_FOUND and changes nothing', async () => {
  const res = await app.gql(`mutation($u: ID!) { assignRole(userId: $u, input: { roleType: "CATALOGER", scope: { type: LIBRARY, libraryId: "${mine.libraries.MAIN.id}" } }) { id } }`, { u: their.userId }, admin);
  expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  expect(await db().query(`SELECT count(*)::int AS n FROM role_assignment WHERE user_id = $1`, [their.userId])).toEqual([{ n: 2 }]);
});

test('removeRole and setRoleActive on another institution role are NOT_FOUND', async () => {
  for (const query of [`mutation($r: ID!) { removeRole(roleId: $r) { removedRoleId } }`, `mutation($r: ID!) { setRoleActive(roleId: $r, active: false) { id } }`]) {
    expect((await app.gql(query, { r: their.roleId }, admin)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
  }
  expect(await db().query(`SELECT is_active FROM role_assignment WHERE id = $1`, [their.roleId])).toEqual([{ is_active: true }]);
});

test('another institution profile can be neither assigned, edited, deleted nor used in a rule', async () => {
  const ownUser = await createPerson(db(), mine, { withPassword: false });
  const attempts = [
    app.gql(`mutation($u: ID!, $p: ID!) { assignRoleProfile(userId: $u, profileId: $p) { id } }`, { u: ownUser, p: their.profileId }, admin),
    app.gql(`mutation($p: ID!) { updateRoleProfile(id: $p, input: { name: "Hijacked", roles: [] }) { id } }`, { p: their.profileId }, admin),
    app.gql(`mutation($p: ID!) { deleteRoleProfile(id: $p) }`, { p: their.profileId }, admin),
    app.gql(`mutation($p: ID!) { createRoleAssignmentRule(input: { userGroup: "UNDERGRAD", profileId: $p }) { id } }`, { p: their.profileId }, admin),
  ];
  const codes = (await Promise.all(attempts)).map((r) => r.errors?.[0].extensions?.code);
  expect(codes).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'BAD_USER_INPUT']);
  expect(await db().query(`SELECT name FROM role_profile WHERE id = $1`, [their.profileId])).toEqual([{ name: 'Theirs' }]);
});

test('a primary identifier may exist once per institution: the same value is free in another', async () => {
  const res = await app.gql(`mutation { createUser(input: { recordType: PUBLIC, primaryIdentifier: "their_user", firstName: "Also", lastName: "Here",
    emails: [{ address: "also@example.edu", type: "PERSONAL" }] }) { user { primaryIdentifier } } }`, {}, admin);
  expect(res.data?.createUser.user.primaryIdentifier).toBe('their_user');
});
