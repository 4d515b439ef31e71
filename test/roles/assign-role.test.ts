import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

let app: TestApp;
let inst: InstitutionFixture;
let admin: string;
let lawAdmin: string;

const ASSIGN = `mutation($u: ID!, $in: RoleInput!) { assignRole(userId: $u, input: $in) { id roleType active scope { type library { code } desk { code } } } }`;
const db = () => app.db.dataSource;
const rolesOf = (userId: string) => db().query(`SELECT role_type, scope_type, is_active FROM role_assignment WHERE user_id = $1 ORDER BY role_type`, [userId]);

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await createPerson(db(), inst, { primaryIdentifier: 'ua', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  await createPerson(db(), inst, { primaryIdentifier: 'ua_law', roles: [['USER_ADMINISTRATOR', 'LAW']] });
  await createPerson(db(), inst, { primaryIdentifier: 'um', roles: [['USER_MANAGER', 'INSTITUTION']] });
  admin = await app.login('ua', PASSWORD);
  lawAdmin = await app.login('ua_law', PASSWORD);
});
afterAll(() => app.close());

const staff = () => createPerson(db(), inst, { recordType: 'STAFF', roles: [['PATRON', 'INSTITUTION']], withPassword: false });

test('R4.1 a User Administrator assigns a role with a library scope', async () => {
  const userId = await staff();
  const res = await app.gql(ASSIGN, { u: userId, in: { roleType: 'CIRCULATION_DESK_MANAGER', scope: { type: 'LIBRARY', libraryId: inst.libraries.MAIN.id } } }, admin);
  expect(res.data.assignRole).toMatchObject({ roleType: 'CIRCULATION_DESK_MANAGER', active: true, scope: { type: 'LIBRARY', library: { code: 'MAIN' }, desk: null } });
});

test('R4.1 a circulation desk scope names its desk and library', async () => {
  const userId = await staff();
  const res = await app.gql(ASSIGN, { u: userId, in: { roleType: 'CIRCULATION_DESK_OPERATOR', scope: { type: 'CIRCULATION_DESK', deskId: inst.libraries.LAW.deskId } } }, admin);
  expect(res.data.assignRole.scope).toEqual({ type: 'CIRCULATION_DESK', library: { code: 'LAW' }, desk: { code: 'LAW_DESK' } });
});

test('R4.3 a role that needs a scope and has none is saved inactive', async () => {
  const userId = await staff();
  const res = await app.gql(ASSIGN, { u: userId, in: { roleType: 'USER_MANAGER' } }, admin);
  expect(res.data.assignRole).toMatchObject({ roleType: 'USER_MANAGER', active: false, scope: null });
});

test('R4.3 a role without a scope cannot be activated', async () => {
  const userId = await staff();
  const role = (await app.gql(ASSIGN, { u: userId, in: { roleType: 'USER_MANAGER' } }, admin)).data.assignRole;
  const res = await app.gql(`mutation($r: ID!) { setRoleActive(roleId: $r, active: true) { active } }`, { r: role.id }, admin);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'active' });
  expect(await rolesOf(userId)).toContainEqual({ role_type: 'USER_MANAGER', scope_type: null, is_active: false });
});

test('a scoped role can be deactivated and activated again', async () => {
  const userId = await staff();
  const role = (await app.gql(ASSIGN, { u: userId, in: { roleType: 'CATALOGER', scope: { type: 'INSTITUTION' } } }, admin)).data.assignRole;
  const off = await app.gql(`mutation($r: ID!) { setRoleActive(roleId: $r, active: false) { active } }`, { r: role.id }, admin);
  expect(off.data.setRoleActive.active).toBe(false);
  const on = await app.gql(`mutation($r: ID!) { setRoleActive(roleId: $r, active: true) { active } }`, { r: role.id }, admin);
  expect(on.data.setRoleActive.active).toBe(true);
});

test('an unknown role type is BAD_USER_INPUT naming input.roleType', async () => {
  const userId = await staff();
  const res = await app.gql(ASSIGN, { u: userId, in: { roleType: 'WIZARD', scope: { type: 'INSTITUTION' } } }, admin);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.roleType' });
});

test('a library of another institution is BAD_USER_INPUT naming the scope field', async () => {
  const other = await createInstitution(db(), 'OTHER_LIB');
  const userId = await staff();
  const res = await app.gql(ASSIGN, { u: userId, in: { roleType: 'CATALOGER', scope: { type: 'LIBRARY', libraryId: other.libraries.MAIN.id } } }, admin);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.scope.libraryId' });
});

test('the same role at the same scope twice is CONFLICT and nothing is added', async () => {
  const userId = await staff();
  const input = { roleType: 'CATALOGER', scope: { type: 'INSTITUTION' } };
  await app.gql(ASSIGN, { u: userId, in: input }, admin);
  const res = await app.gql(ASSIGN, { u: userId, in: input }, admin);
  expect(res.errors?.[0].extensions?.code).toBe('CONFLICT');
  expect((await rolesOf(userId)).filter((r: { role_type: string }) => r.role_type === 'CATALOGER')).toHaveLength(1);
});

test('R5.3 a library-scoped User Administrator may assign roles scoped to its library', async () => {
  const userId = await staff();
  const res = await app.gql(ASSIGN, { u: userId, in: { roleType: 'CIRCULATION_DESK_OPERATOR', scope: { type: 'CIRCULATION_DESK', deskId: inst.libraries.LAW.deskId } } }, lawAdmin);
  expect(res.data?.assignRole.active).toBe(true);
});

test('R5.3 a library-scoped User Administrator may not assign a role scoped to another library', async () => {
  const userId = await staff();
  const res = await app.gql(ASSIGN, { u: userId, in: { roleType: 'CIRCULATION_DESK_OPERATOR', scope: { type: 'LIBRARY', libraryId: inst.libraries.MAIN.id } } }, lawAdmin);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await rolesOf(userId)).toEqual([{ role_type: 'PATRON', scope_type: 'INSTITUTION', is_active: true }]);
});

test('R5.3 a library-scoped User Administrator may not assign an institution-wide role', async () => {
  const userId = await staff();
  const res = await app.gql(ASSIGN, { u: userId, in: { roleType: 'USER_MANAGER', scope: { type: 'INSTITUTION' } } }, lawAdmin);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
});

test('R4.2 a User Manager may not assign roles', async () => {
  const userId = await staff();
  const res = await app.gql(ASSIGN, { u: userId, in: { roleType: 'CATALOGER', scope: { type: 'INSTITUTION' } } }, await app.login('um', PASSWORD));
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await rolesOf(userId)).toHaveLength(1);
});

test('R1.1 a contact record holds no roles', async () => {
  const contactId = await createPerson(db(), inst, { recordType: 'CONTACT', withPassword: false });
  const res = await app.gql(ASSIGN, { u: contactId, in: { roleType: 'CATALOGER', scope: { type: 'INSTITUTION' } } }, admin);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
});

test('an unknown user is NOT_FOUND', async () => {
  const res = await app.gql(ASSIGN, { u: '00000000-0000-4000-8000-000000000000', in: { roleType: 'CATALOGER', scope: { type: 'INSTITUTION' } } }, admin);
  expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
});

test('R9.1 assigning and removing a role are recorded in history and as events', async () => {
  const userId = await staff();
  const role = (await app.gql(ASSIGN, { u: userId, in: { roleType: 'CATALOGER', scope: { type: 'INSTITUTION' } } }, admin)).data.assignRole;
  const removed = await app.gql(`mutation($r: ID!) { removeRole(roleId: $r) { removedRoleId user { roles { roleType } } } }`, { r: role.id }, admin);
  expect(removed.data.removeRole).toEqual({ removedRoleId: role.id, user: { roles: [{ roleType: 'PATRON' }] } });
  const history = await db().query(`SELECT field, old_value, new_value, changed_by FROM history_entry WHERE user_id = $1 ORDER BY id`, [userId]);
  expect(history).toEqual([
    { field: 'roles', old_value: null, new_value: 'CATALOGER@INSTITUTION', changed_by: 'ua' },
    { field: 'roles', old_value: 'CATALOGER@INSTITUTION', new_value: null, changed_by: 'ua' },
  ]);
  const events = await db().query(`SELECT event_type FROM event_outbox WHERE aggregate_id = $1 ORDER BY id`, [userId]);
  expect(events.map((e: { event_type: string }) => e.event_type)).toEqual(['ROLE_ASSIGNED', 'ROLE_REMOVED']);
});

test('roleTypes lists the catalogue with scope and named-user facts', async () => {
  const res = await app.gql(`{ roleTypes { code needsScope countsAsNamedUser staff } }`, {}, admin);
  expect(res.data.roleTypes).toContainEqual({ code: 'PATRON', needsScope: false, countsAsNamedUser: false, staff: false });
  expect(res.data.roleTypes).toContainEqual({ code: 'USER_MANAGER', needsScope: true, countsAsNamedUser: true, staff: true });
});

test('libraries lists the institution libraries with their desks', async () => {
  const res = await app.gql(`{ libraries { code desks { code } } }`, {}, admin);
  expect(res.data.libraries).toEqual([{ code: 'LAW', desks: [{ code: 'LAW_DESK' }] }, { code: 'MAIN', desks: [{ code: 'MAIN_DESK' }] }]);
});

test('R4.2 an operator marked "can\'t edit restricted users" may not change a restricted user', async () => {
  const limited = await createPerson(db(), inst, { primaryIdentifier: 'ua_limited', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  await db().query(`UPDATE app_user SET cannot_edit_restricted_users = true WHERE id = $1`, [limited]);
  const restricted = await staff();
  await db().query(`UPDATE app_user SET is_restricted = true WHERE id = $1`, [restricted]);
  const res = await app.gql(ASSIGN, { u: restricted, in: { roleType: 'CATALOGER', scope: { type: 'INSTITUTION' } } }, await app.login('ua_limited', PASSWORD));
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await rolesOf(restricted)).toHaveLength(1);
});

test('R4.2 the same operator may change users that are not restricted', async () => {
  const limited = await createPerson(db(), inst, { primaryIdentifier: 'ua_limited2', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  await db().query(`UPDATE app_user SET cannot_edit_restricted_users = true WHERE id = $1`, [limited]);
  const res = await app.gql(ASSIGN, { u: await staff(), in: { roleType: 'CATALOGER', scope: { type: 'INSTITUTION' } } }, await app.login('ua_limited2', PASSWORD));
  expect(res.data?.assignRole.id).toBeTruthy();
});
