import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

let app: TestApp;
let inst: InstitutionFixture;
let admin: string;

const db = () => app.db.dataSource;
const CREATE = `mutation($in: RoleProfileInput!) { createRoleProfile(input: $in) { id name roles { roleType scope { type library { code } } } } }`;
const rolesOf = async (userId: string) =>
  (await db().query(`SELECT role_type || '@' || coalesce(scope_type, '-') AS r FROM role_assignment WHERE user_id = $1 ORDER BY 1`, [userId]))
    .map((row: { r: string }) => row.r);

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await createPerson(db(), inst, { primaryIdentifier: 'ua', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  await createPerson(db(), inst, { primaryIdentifier: 'um', roles: [['USER_MANAGER', 'INSTITUTION']] });
  admin = await app.login('ua', PASSWORD);
});
afterAll(() => app.close());

async function circulationProfile(name: string) {
  const res = await app.gql(CREATE, { in: { name, roles: [
    { roleType: 'CIRCULATION_DESK_OPERATOR', scope: { type: 'CIRCULATION_DESK', deskId: inst.libraries.MAIN.deskId } },
    { roleType: 'FULFILLMENT_SERVICES_OPERATOR', scope: { type: 'LIBRARY', libraryId: inst.libraries.MAIN.id } },
  ] } }, admin);
  return res.data.createRoleProfile;
}

test('R4.3 a role profile is created with its roles', async () => {
  const profile = await circulationProfile('Main circulation');
  expect(profile.roles).toEqual([
    { roleType: 'CIRCULATION_DESK_OPERATOR', scope: { type: 'CIRCULATION_DESK', library: { code: 'MAIN' } } },
    { roleType: 'FULFILLMENT_SERVICES_OPERATOR', scope: { type: 'LIBRARY', library: { code: 'MAIN' } } },
  ]);
});

test('R4.3 assignRoleProfile adds all of the profile roles at once', async () => {
  const profile = await circulationProfile('Main circulation 2');
  const userId = await createPerson(db(), inst, { roles: [['PATRON', 'INSTITUTION']], withPassword: false });
  const res = await app.gql(`mutation($u: ID!, $p: ID!) { assignRoleProfile(userId: $u, profileId: $p) { roles { roleType active } } }`, { u: userId, p: profile.id }, admin);
  expect(res.data.assignRoleProfile.roles).toHaveLength(3);
  expect(await rolesOf(userId)).toEqual(['CIRCULATION_DESK_OPERATOR@CIRCULATION_DESK', 'FULFILLMENT_SERVICES_OPERATOR@LIBRARY', 'PATRON@INSTITUTION']);
});

test('R4.3 assigning a profile twice keeps each role once', async () => {
  const profile = await circulationProfile('Main circulation 3');
  const userId = await createPerson(db(), inst, { withPassword: false });
  const assign = `mutation($u: ID!, $p: ID!) { assignRoleProfile(userId: $u, profileId: $p) { id } }`;
  await app.gql(assign, { u: userId, p: profile.id }, admin);
  await app.gql(assign, { u: userId, p: profile.id }, admin);
  expect(await rolesOf(userId)).toHaveLength(2);
});

test('R4.3 roles are copied: editing the profile later changes no user', async () => {
  const profile = await circulationProfile('Main circulation 4');
  const userId = await createPerson(db(), inst, { withPassword: false });
  await app.gql(`mutation($u: ID!, $p: ID!) { assignRoleProfile(userId: $u, profileId: $p) { id } }`, { u: userId, p: profile.id }, admin);
  const before = await rolesOf(userId);
  const update = await app.gql(`mutation($id: ID!, $in: RoleProfileInput!) { updateRoleProfile(id: $id, input: $in) { roles { roleType } } }`,
    { id: profile.id, in: { name: 'Main circulation 4', roles: [{ roleType: 'CATALOGER', scope: { type: 'INSTITUTION' } }] } }, admin);
  expect(update.data.updateRoleProfile.roles).toEqual([{ roleType: 'CATALOGER' }]);
  expect(await rolesOf(userId)).toEqual(before);
});

test('R4.3 deleting a profile leaves the users it was assigned to with their roles', async () => {
  const profile = await circulationProfile('Main circulation 5');
  const userId = await createPerson(db(), inst, { withPassword: false });
  await app.gql(`mutation($u: ID!, $p: ID!) { assignRoleProfile(userId: $u, profileId: $p) { id } }`, { u: userId, p: profile.id }, admin);
  const res = await app.gql(`mutation($id: ID!) { deleteRoleProfile(id: $id) }`, { id: profile.id }, admin);
  expect(res.data.deleteRoleProfile).toBe(profile.id);
  expect(await rolesOf(userId)).toHaveLength(2);
});

test('a profile name is unique in the institution: a second one is CONFLICT', async () => {
  await circulationProfile('Twice');
  const res = await app.gql(CREATE, { in: { name: 'Twice', roles: [] } }, admin);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'input.name' });
});

const profileState = async () =>
  (await db().query(`SELECT (SELECT count(*)::int FROM role_profile) AS profiles, (SELECT count(*)::int FROM role_profile_entry) AS entries,
                            (SELECT count(*)::int FROM history_entry) AS history, (SELECT count(*)::int FROM event_outbox) AS events,
                            (SELECT string_agg(name, ',' ORDER BY name) FROM role_profile) AS names`))[0];

test('Issue 9 finding 14: a profile holding the same role (type and scope) twice is refused on create and update, naming the second entry', async () => {
  const main = { type: 'LIBRARY', libraryId: inst.libraries.MAIN.id };
  const twice = [
    { roleType: 'USER_MANAGER', scope: main },
    { roleType: 'CATALOGER', scope: { type: 'INSTITUTION' } },
    { roleType: 'USER_MANAGER', scope: main },
  ];
  const profile = await circulationProfile('Twice the role');
  const before = await profileState();
  const created = await app.gql(CREATE, { in: { name: 'Twice the role 2', roles: twice } }, admin);
  const updated = await app.gql(`mutation($id: ID!, $in: RoleProfileInput!) { updateRoleProfile(id: $id, input: $in) { id } }`,
    { id: profile.id, in: { name: 'Twice the role', roles: twice } }, admin);
  for (const res of [created, updated]) {
    expect(res.errors?.[0]).toMatchObject({
      message: `USER_MANAGER@LIBRARY:${inst.libraries.MAIN.id} is listed twice: input.roles[0] and input.roles[2]`,
      extensions: { code: 'BAD_USER_INPUT', field: 'input.roles[2]' },
    });
  }
  expect(await profileState()).toEqual(before);
});

test('R4.3 the same role type at two scopes is two roles: a profile may hold both', async () => {
  const res = await app.gql(CREATE, { in: { name: 'Two libraries', roles: [
    { roleType: 'USER_MANAGER', scope: { type: 'LIBRARY', libraryId: inst.libraries.MAIN.id } },
    { roleType: 'USER_MANAGER', scope: { type: 'LIBRARY', libraryId: inst.libraries.LAW.id } },
  ] } }, admin);
  expect(res.data.createRoleProfile.roles).toHaveLength(2);
});

test('R4.2 a User Manager may not manage role profiles', async () => {
  const res = await app.gql(CREATE, { in: { name: 'Not mine', roles: [] } }, await app.login('um', PASSWORD));
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await db().query(`SELECT 1 FROM role_profile WHERE name = 'Not mine'`)).toEqual([]);
});

test('R4.3 a role assignment rule gives a new user with the matching job category the profile roles', async () => {
  const profile = await circulationProfile('For librarians');
  const rule = await app.gql(`mutation($in: RoleAssignmentRuleInput!) { createRoleAssignmentRule(input: $in) { jobCategory profile { name } } }`,
    { in: { jobCategory: 'LIBRARIAN', profileId: profile.id } }, admin);
  expect(rule.data.createRoleAssignmentRule).toEqual({ jobCategory: 'LIBRARIAN', profile: { name: 'For librarians' } });
  const created = await app.gql(`mutation($in: CreateUserInput!) { createUser(input: $in) { user { id roles { roleType } } } }`, { in: {
    recordType: 'STAFF', primaryIdentifier: 'newlibrarian', firstName: 'New', lastName: 'Librarian', jobCategory: 'LIBRARIAN',
    emails: [{ address: 'new.librarian@example.edu', type: 'WORK' }],
  } }, admin);
  expect(created.data.createUser.user.roles.map((r: { roleType: string }) => r.roleType).sort())
    .toEqual(['CIRCULATION_DESK_OPERATOR', 'FULFILLMENT_SERVICES_OPERATOR', 'PATRON']);
});

test('R4.3 a rule does not apply to users whose job category and user group do not match', async () => {
  const created = await app.gql(`mutation($in: CreateUserInput!) { createUser(input: $in) { user { roles { roleType } } } }`, { in: {
    recordType: 'PUBLIC', primaryIdentifier: 'plainpatron', firstName: 'Plain', lastName: 'Patron', userGroup: 'UNDERGRAD',
    emails: [{ address: 'plain@example.edu', type: 'PERSONAL' }],
  } }, admin);
  expect(created.data.createUser.user.roles).toEqual([{ roleType: 'PATRON' }]);
});

test('a rule needs a configured job category or user group', async () => {
  const profile = await circulationProfile('Rule target');
  const res = await app.gql(`mutation($in: RoleAssignmentRuleInput!) { createRoleAssignmentRule(input: $in) { id } }`,
    { in: { userGroup: 'NOPE', profileId: profile.id } }, admin);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.userGroup' });
});
