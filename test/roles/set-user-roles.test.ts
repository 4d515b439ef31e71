import { createInstitution, createPerson, InstitutionFixture, PASSWORD, PersonSpec } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 13 item 4 (R4.1-R4.3, R9.1, R11.3): setUserRoles replaces a user's roles exactly, under the rules of
 * assignRole and removeRole for every role given and taken, through the API.
 */

let app: TestApp;
let inst: InstitutionFixture;
let other: InstitutionFixture;
let admin: string;
let lawAdmin: string;
let manager: string;
let adminId: string;
const db = () => app.db.dataSource;

const SET = `mutation($u: ID!, $roles: [RoleInput!]!) {
  setUserRoles(userId: $u, roles: $roles) { id roles { id roleType active expiryDate scope { type library { code } desk { code } } } }
}`;

type Scope = 'INSTITUTION' | 'MAIN' | 'LAW' | 'MAIN_DESK' | 'LAW_DESK';
/** A role input, its scope named as the fixtures name it. */
function role(roleType: string, scope?: Scope, expiryDate?: string) {
  const input: Record<string, unknown> = { roleType };
  if (expiryDate) input.expiryDate = expiryDate;
  if (!scope) return input;
  if (scope === 'INSTITUTION') return { ...input, scope: { type: 'INSTITUTION' } };
  if (scope.endsWith('_DESK')) return { ...input, scope: { type: 'CIRCULATION_DESK', deskId: inst.libraries[scope.replace('_DESK', '')].deskId } };
  return { ...input, scope: { type: 'LIBRARY', libraryId: inst.libraries[scope].id } };
}

/** A user's roles as `TYPE@SCOPE` (expiry and inactivity noted), sorted, read from the database. */
async function rolesOf(userId: string): Promise<string[]> {
  const rows: { role_type: string; scope_type: string | null; library: string | null; desk: string | null; expiry: string | null; is_active: boolean }[] =
    await db().query(
      `SELECT r.role_type, r.scope_type, l.code AS library, d.code AS desk, r.expiry_date::text AS expiry, r.is_active
         FROM role_assignment r LEFT JOIN library l ON l.id = r.scope_library_id LEFT JOIN circulation_desk d ON d.id = r.scope_desk_id
        WHERE r.user_id = $1`, [userId]);
  return rows.map((r) => {
    const where = r.scope_type === null ? 'none' : r.scope_type === 'INSTITUTION' ? 'INSTITUTION' : r.desk ?? r.library;
    return `${r.role_type}@${where}${r.expiry ? ` until ${r.expiry}` : ''}${r.is_active ? '' : ' (inactive)'}`;
  }).sort();
}

const roleIds = async (userId: string) =>
  (await db().query(`SELECT id FROM role_assignment WHERE user_id = $1 ORDER BY id`, [userId])).map((r: { id: string }) => r.id);
const history = (userId: string) =>
  db().query(`SELECT field, old_value AS "oldValue", new_value AS "newValue", changed_by AS "by" FROM history_entry WHERE user_id = $1 ORDER BY id`, [userId]);
const events = (userId: string) =>
  db().query(`SELECT event_type AS type, actor, payload->'changes' AS changes FROM event_outbox WHERE aggregate_id = $1 ORDER BY id`, [userId]);
/** Everything a refused request must leave as it was. */
const state = async (userId: string) => ({ roles: await roleIds(userId), history: await history(userId), events: await events(userId) });

/** A staff user holding the given roles (PATRON always), without a password. */
const staff = (roles: [string, string][] = [], spec: PersonSpec = {}) =>
  createPerson(db(), inst, { recordType: 'STAFF', withPassword: false, roles: [['PATRON', 'INSTITUTION'], ...roles], ...spec });

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  other = await createInstitution(db(), 'OTHER');
  adminId = await createPerson(db(), inst, { primaryIdentifier: 'ua', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  await createPerson(db(), inst, { primaryIdentifier: 'ua_law', roles: [['USER_ADMINISTRATOR', 'LAW']] });
  await createPerson(db(), inst, { primaryIdentifier: 'um', roles: [['USER_MANAGER', 'INSTITUTION']] });
  [admin, lawAdmin, manager] = await Promise.all(['ua', 'ua_law', 'um'].map((id) => app.login(id, PASSWORD)));
});
afterAll(() => app.close());

describe('R4.1 the list given is exactly the result', () => {
  test('R4.1 setUserRoles replaces the roles exactly: listed roles are given, omitted ones removed', async () => {
    const userId = await staff([['CATALOGER', 'INSTITUTION'], ['ACQUISITIONS_OPERATOR', 'MAIN']]);
    const res = await app.gql(SET, { u: userId, roles: [role('PATRON'), role('CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'), role('USER_MANAGER', 'LAW'), role('CATALOGER', 'INSTITUTION')] }, admin);
    expect(res.errors).toBeUndefined();
    expect(await rolesOf(userId)).toEqual(['CATALOGER@INSTITUTION', 'CIRCULATION_DESK_OPERATOR@MAIN_DESK', 'PATRON@INSTITUTION', 'USER_MANAGER@LAW']);
    // The answer is the user after the change.
    expect(res.data.setUserRoles.roles.map((r: { roleType: string }) => r.roleType).sort()).toEqual(['CATALOGER', 'CIRCULATION_DESK_OPERATOR', 'PATRON', 'USER_MANAGER']);
    expect(res.data.setUserRoles.roles).toContainEqual(expect.objectContaining({ roleType: 'USER_MANAGER', active: true, scope: { type: 'LIBRARY', library: { code: 'LAW' }, desk: null } }));
  });

  test('R4.1 roles held as listed are kept untouched: the same assignments, no history, no event', async () => {
    const userId = await staff([['CATALOGER', 'INSTITUTION'], ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']]);
    const before = await state(userId);
    const res = await app.gql(SET, { u: userId, roles: [role('CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'), role('PATRON'), role('CATALOGER', 'INSTITUTION')] }, admin);
    expect(res.errors).toBeUndefined();
    expect(await state(userId)).toEqual(before);
  });

  test('R4.1 only the difference is written: kept roles keep their ids while others come and go', async () => {
    const userId = await staff([['CATALOGER', 'INSTITUTION']]);
    const [kept] = await db().query(`SELECT id FROM role_assignment WHERE user_id = $1 AND role_type = 'CATALOGER'`, [userId]);
    await app.gql(SET, { u: userId, roles: [role('CATALOGER', 'INSTITUTION'), role('SELECTOR', 'LAW')] }, admin);
    expect(await rolesOf(userId)).toEqual(['CATALOGER@INSTITUTION', 'SELECTOR@LAW']);
    expect(await roleIds(userId)).toContain(kept.id);
  });

  test('R4.1 an empty list removes every role', async () => {
    const userId = await staff([['CATALOGER', 'INSTITUTION'], ['SELECTOR', 'MAIN']]);
    const res = await app.gql(SET, { u: userId, roles: [] }, admin);
    expect(res.data.setUserRoles.roles).toEqual([]);
    expect(await rolesOf(userId)).toEqual([]);
  });

  test('R4.3 a role that needs a scope and is listed without one is given inactive, as assignRole gives it', async () => {
    const userId = await staff();
    await app.gql(SET, { u: userId, roles: [role('PATRON'), role('CATALOGER')] }, admin);
    expect(await rolesOf(userId)).toEqual(['CATALOGER@none (inactive)', 'PATRON@INSTITUTION']);
  });

  test('R4.1 a role held inactive and listed again is kept as it is, inactive', async () => {
    const userId = await staff([['CATALOGER', 'INSTITUTION']]);
    await db().query(`UPDATE role_assignment SET is_active = false WHERE user_id = $1 AND role_type = 'CATALOGER'`, [userId]);
    const before = await state(userId);
    await app.gql(SET, { u: userId, roles: [role('PATRON'), role('CATALOGER', 'INSTITUTION')] }, admin);
    expect(await state(userId)).toEqual(before);
    expect(await rolesOf(userId)).toEqual(['CATALOGER@INSTITUTION (inactive)', 'PATRON@INSTITUTION']);
  });

  test('R4.1 a role listed with another expiry date replaces the one held: removed and given again', async () => {
    const userId = await staff([['CATALOGER', 'INSTITUTION']]);
    await app.gql(SET, { u: userId, roles: [role('PATRON'), role('CATALOGER', 'INSTITUTION', '2099-12-31')] }, admin);
    expect(await rolesOf(userId)).toEqual(['CATALOGER@INSTITUTION until 2099-12-31', 'PATRON@INSTITUTION']);
    expect(await history(userId)).toEqual([
      { field: 'roles', oldValue: null, newValue: 'CATALOGER@INSTITUTION', by: 'ua' },
      { field: 'roles', oldValue: 'CATALOGER@INSTITUTION', newValue: null, by: 'ua' },
    ]);
  });

  test('R4.1 updateUser, which takes no roles list, keeps the roles', async () => {
    const userId = await staff([['CATALOGER', 'INSTITUTION'], ['SELECTOR', 'LAW']]);
    const before = await roleIds(userId);
    const res = await app.gql(`mutation($id: ID!) { updateUser(id: $id, input: { title: "Dr", jobDescription: "Keeps roles" }) { id roles { id } } }`, { id: userId }, admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.updateUser.roles.map((r: { id: string }) => r.id).sort()).toEqual(before.sort());
    expect(await roleIds(userId)).toEqual(before);
  });
});

describe('no roles list', () => {
  const KEEP = `mutation($u: ID!, $roles: [RoleInput!]) { setUserRoles(userId: $u, roles: $roles) { id roles { id } } }`;

  test.each([['omitted', undefined], ['null', null]])('R4.1 setUserRoles with the roles list %s keeps the roles and writes nothing', async (_what, roles) => {
    const userId = await staff([['CATALOGER', 'INSTITUTION']]);
    const before = await state(userId);
    const res = await app.gql(KEEP, { u: userId, ...(roles === undefined ? {} : { roles }) }, admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.setUserRoles.roles.map((r: { id: string }) => r.id).sort()).toEqual([...before.roles].sort());
    expect(await state(userId)).toEqual(before);
  });

  test('without a list the rules still apply: a User Manager is FORBIDDEN, another institution\'s user NOT_FOUND', async () => {
    const userId = await staff();
    expect((await app.gql(KEEP, { u: userId }, manager)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const elsewhere = await createPerson(db(), other, { withPassword: false });
    expect((await app.gql(KEEP, { u: elsewhere }, admin)).errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'userId' });
  });
});

describe('R9.1/R11.3 one history entry and one event per change', () => {
  test('R9.1 each role given or taken is one history entry and one ROLE_ASSIGNED or ROLE_REMOVED event, as assignRole and removeRole record them', async () => {
    const userId = await staff([['CATALOGER', 'INSTITUTION'], ['SELECTOR', 'MAIN']]);
    await app.gql(SET, { u: userId, roles: [role('PATRON'), role('SELECTOR', 'MAIN'), role('ACQUISITIONS_OPERATOR', 'LAW'), role('COURSE_RESERVES_MANAGER', 'INSTITUTION')] }, admin);
    const law = inst.libraries.LAW.id;
    const added = [`ACQUISITIONS_OPERATOR@LIBRARY:${law}`, 'COURSE_RESERVES_MANAGER@INSTITUTION'];
    const entries = await history(userId);
    expect(entries).toHaveLength(3);
    expect(entries).toEqual(expect.arrayContaining([
      ...added.map((newValue) => ({ field: 'roles', oldValue: null, newValue, by: 'ua' })),
      { field: 'roles', oldValue: 'CATALOGER@INSTITUTION', newValue: null, by: 'ua' },
    ]));
    const published = await events(userId);
    expect(published).toHaveLength(3);
    expect(published).toEqual(expect.arrayContaining([
      ...added.map((newValue) => ({ type: 'ROLE_ASSIGNED', actor: 'ua', changes: [{ field: 'roles', oldValue: null, newValue }] })),
      { type: 'ROLE_REMOVED', actor: 'ua', changes: [{ field: 'roles', oldValue: 'CATALOGER@INSTITUTION', newValue: null }] },
    ]));
  });

  test('R11.3 the events reach the partners reading the events query', async () => {
    const userId = await staff([['CATALOGER', 'INSTITUTION']]);
    await app.gql(SET, { u: userId, roles: [role('PATRON')] }, admin);
    // An event is released once no transaction older than it runs anywhere on the server (other test files' too): poll.
    let nodes: unknown[] = [];
    for (let i = 0; i < 100 && nodes.length === 0; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      const res = await app.gql(`query($u: ID!) { events(first: 10, filter: { families: [ROLE], userId: $u }) { edges { node { type ... on RoleEvent { subjectId } } } } }`, { u: userId }, admin);
      expect(res.errors).toBeUndefined();
      nodes = res.data.events.edges.map((e: { node: unknown }) => e.node);
    }
    expect(nodes).toEqual([{ type: 'ROLE_REMOVED', subjectId: userId }]);
  });

  test('R4.2 losing the last staff role ends the user\'s sessions, as removeRole does', async () => {
    const userId = await createPerson(db(), inst, { primaryIdentifier: 'loses_staff', roles: [['CATALOGER', 'INSTITUTION']] });
    const token = await app.login('loses_staff', PASSWORD);
    await app.gql(SET, { u: userId, roles: [role('PATRON')] }, admin);
    expect((await app.gql(`{ me { id } }`, {}, token)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('R4.2/R4.5 the rules of assignRole and removeRole, for every role given and taken', () => {
  test('R4.2 a User Manager (no role.assign) is FORBIDDEN and nothing changes', async () => {
    const userId = await staff([['CATALOGER', 'INSTITUTION']]);
    const before = await state(userId);
    const res = await app.gql(SET, { u: userId, roles: [role('PATRON')] }, manager);
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await state(userId)).toEqual(before);
  });

  test('R5.3 a library-scoped User Administrator sets roles within its library', async () => {
    const userId = await staff();
    const res = await app.gql(SET, { u: userId, roles: [role('PATRON'), role('CIRCULATION_DESK_OPERATOR', 'LAW_DESK'), role('USER_MANAGER', 'LAW')] }, lawAdmin);
    expect(res.errors).toBeUndefined();
    expect(await rolesOf(userId)).toEqual(['CIRCULATION_DESK_OPERATOR@LAW_DESK', 'PATRON@INSTITUTION', 'USER_MANAGER@LAW']);
  });

  test('subset rule: a list with one role beyond the operator\'s power is refused whole, naming it, and nothing changes', async () => {
    const userId = await staff([['SELECTOR', 'LAW']]);
    const before = await state(userId);
    const res = await app.gql(SET, { u: userId, roles: [role('PATRON'), role('CATALOGER', 'LAW'), role('USER_MANAGER', 'MAIN')] }, lawAdmin);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'roles[2]' });
    expect(res.errors?.[0].message).toMatch(/USER_MANAGER@LIBRARY/);
    expect(await state(userId)).toEqual(before);
  });

  test('subset rule: a library-scoped User Administrator may not give an institution-wide role', async () => {
    const userId = await staff();
    const before = await state(userId);
    const res = await app.gql(SET, { u: userId, roles: [role('PATRON'), role('CATALOGER', 'INSTITUTION')] }, lawAdmin);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'roles[1]' });
    expect(await state(userId)).toEqual(before);
  });

  test('subset rule: a role the operator could not grant is not removed by leaving it out, and nothing changes', async () => {
    const userId = await staff([['CATALOGER', 'MAIN'], ['SELECTOR', 'LAW']]);
    const before = await state(userId);
    // Only LAW roles listed: the MAIN role would be removed by an operator who could not have given it.
    const res = await app.gql(SET, { u: userId, roles: [role('PATRON'), role('SELECTOR', 'LAW')] }, lawAdmin);
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(res.errors?.[0].message).toMatch(/CATALOGER@LIBRARY/);
    expect(await state(userId)).toEqual(before);
  });

  test('subset rule: an operator holding another library\'s role may not even keep it listed', async () => {
    const userId = await staff([['CATALOGER', 'MAIN']]);
    const before = await state(userId);
    const res = await app.gql(SET, { u: userId, roles: [role('PATRON'), role('CATALOGER', 'MAIN'), role('SELECTOR', 'LAW')] }, lawAdmin);
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await state(userId)).toEqual(before);
  });

  test('R4.2 circulation desk and fulfilment operators (no role.assign) are FORBIDDEN and nothing changes', async () => {
    await createPerson(db(), inst, { primaryIdentifier: 'circ_roles', roles: [['CIRCULATION_DESK_MANAGER', 'INSTITUTION']] });
    await createPerson(db(), inst, { primaryIdentifier: 'fso_roles', roles: [['FULFILLMENT_SERVICES_MANAGER', 'INSTITUTION']] });
    const userId = await staff();
    const before = await state(userId);
    for (const operator of ['circ_roles', 'fso_roles']) {
      const res = await app.gql(SET, { u: userId, roles: [role('PATRON'), role('CIRCULATION_DESK_OPERATOR', 'MAIN_DESK')] }, await app.login(operator, PASSWORD));
      expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
    expect(await state(userId)).toEqual(before);
  });

  test('subset rule: a library-scoped User Administrator may not give a role at another library\'s desk', async () => {
    const userId = await staff();
    const before = await state(userId);
    const res = await app.gql(SET, { u: userId, roles: [role('PATRON'), role('CIRCULATION_DESK_OPERATOR', 'MAIN_DESK')] }, lawAdmin);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'roles[1]' });
    expect(await state(userId)).toEqual(before);
  });

  test('subset rule: an API key holding a library-scoped User Administrator role gives no institution-wide role', async () => {
    const created = await app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`,
      { in: { name: 'Law IdM', roles: [role('USER_ADMINISTRATOR', 'LAW')] } }, admin);
    const userId = await staff();
    const before = await state(userId);
    const res = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': created.data.createApiKey.secret },
      body: JSON.stringify({ query: SET, variables: { u: userId, roles: [role('PATRON'), role('USER_ADMINISTRATOR', 'INSTITUTION')] } }),
    });
    const body = (await res.json()) as { errors?: { extensions: Record<string, unknown> }[] };
    expect(body.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'roles[1]' });
    expect(await state(userId)).toEqual(before);
  });

  test('R4.5 a protected account is refused, whatever the list', async () => {
    const userId = await createPerson(db(), inst, { primaryIdentifier: 'exl_vendor', withPassword: false, roles: [['CATALOGER', 'INSTITUTION']] });
    const before = await state(userId);
    const res = await app.gql(SET, { u: userId, roles: [] }, admin);
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(res.errors?.[0].message).toMatch(/protected account/);
    expect(await state(userId)).toEqual(before);
  });

  test('R4.2 nobody replaces their own roles', async () => {
    const before = await state(adminId);
    const res = await app.gql(SET, { u: adminId, roles: [role('USER_ADMINISTRATOR', 'INSTITUTION'), role('GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION')] }, admin);
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await state(adminId)).toEqual(before);
  });

  test('R4.2 an operator marked "can\'t edit restricted users" may not replace a restricted user\'s roles', async () => {
    await createPerson(db(), inst, { primaryIdentifier: 'ua_limited', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
    await db().query(`UPDATE app_user SET cannot_edit_restricted_users = true WHERE primary_identifier = 'ua_limited'`);
    const userId = await staff();
    await db().query(`UPDATE app_user SET is_restricted = true WHERE id = $1`, [userId]);
    const res = await app.gql(SET, { u: userId, roles: [] }, await app.login('ua_limited', PASSWORD));
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await rolesOf(userId)).toEqual(['PATRON@INSTITUTION']);
  });

  test('R1.1 a contact holds no roles: BAD_USER_INPUT naming userId', async () => {
    const contactId = await createPerson(db(), inst, { recordType: 'CONTACT', withPassword: false });
    const res = await app.gql(SET, { u: contactId, roles: [role('CATALOGER', 'INSTITUTION')] }, admin);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
    expect(await rolesOf(contactId)).toEqual([]);
  });

  test('R5 a user of another institution is NOT_FOUND and keeps its roles', async () => {
    const userId = await createPerson(db(), other, { recordType: 'STAFF', withPassword: false, roles: [['CATALOGER', 'INSTITUTION']] });
    const res = await app.gql(SET, { u: userId, roles: [] }, admin);
    expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(await rolesOf(userId)).toEqual(['CATALOGER@INSTITUTION']);
  });

  test('R5 a scope in another institution is BAD_USER_INPUT naming it, and nothing changes', async () => {
    const userId = await staff();
    const before = await state(userId);
    const res = await app.gql(SET, { u: userId, roles: [role('PATRON'), { roleType: 'CATALOGER', scope: { type: 'LIBRARY', libraryId: other.libraries.MAIN.id } }] }, admin);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'roles[1].scope.libraryId' });
    expect(await state(userId)).toEqual(before);
  });
});

describe('the list itself', () => {
  test('a role listed twice is BAD_USER_INPUT naming both entries, and nothing changes', async () => {
    const userId = await staff([['SELECTOR', 'MAIN']]);
    const before = await state(userId);
    const res = await app.gql(SET, { u: userId, roles: [role('CATALOGER', 'LAW'), role('PATRON'), role('CATALOGER', 'LAW', '2099-01-01')] }, admin);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'roles[2]' });
    expect(res.errors?.[0].message).toMatch(/listed twice: roles\[0\] and roles\[2\]/);
    expect(await state(userId)).toEqual(before);
  });

  test('an unknown role type is BAD_USER_INPUT naming it', async () => {
    const res = await app.gql(SET, { u: await staff(), roles: [role('PATRON'), role('WIZARD', 'INSTITUTION')] }, admin);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'roles[1].roleType' });
  });

  test('more than 100 roles is BAD_USER_INPUT with the limit, before anything is read', async () => {
    const roles = Array.from({ length: 101 }, () => role('PATRON'));
    const res = await app.gql(SET, { u: await staff(), roles }, admin);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'roles', limit: 100 });
  });

  test('an expiry date in the past is BAD_USER_INPUT naming it, and nothing changes', async () => {
    const userId = await staff([['CATALOGER', 'INSTITUTION']]);
    const before = await state(userId);
    const res = await app.gql(SET, { u: userId, roles: [role('PATRON'), role('CATALOGER', 'INSTITUTION', '2000-01-01')] }, admin);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'roles[1].expiryDate' });
    expect(await state(userId)).toEqual(before);
  });

  test('a forged user id is BAD_USER_INPUT naming userId', async () => {
    const res = await app.gql(SET, { u: "1' OR '1'='1", roles: [] }, admin);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
  });

  test('a NUL byte in a role type is BAD_USER_INPUT naming it', async () => {
    const res = await app.gql(SET, { u: await staff(), roles: [role('CATA\u0000LOGER', 'INSTITUTION')] }, admin);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'roles[0].roleType' });
  });

  test('without credentials setUserRoles is UNAUTHENTICATED', async () => {
    const res = await app.gql(SET, { u: await staff(), roles: [] });
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('concurrency', () => {
  test('two concurrent setUserRoles on one user end in exactly one of the two lists', async () => {
    const first = [role('PATRON'), role('CATALOGER', 'INSTITUTION'), role('SELECTOR', 'MAIN')];
    const second = [role('ACQUISITIONS_OPERATOR', 'LAW'), role('CATALOGER', 'INSTITUTION'), role('COURSE_RESERVES_MANAGER', 'MAIN_DESK')];
    const asFirst = ['CATALOGER@INSTITUTION', 'PATRON@INSTITUTION', 'SELECTOR@MAIN'];
    const asSecond = ['ACQUISITIONS_OPERATOR@LAW', 'CATALOGER@INSTITUTION', 'COURSE_RESERVES_MANAGER@MAIN_DESK'];
    for (let round = 0; round < 8; round++) {
      const userId = await staff([['USER_MANAGER', 'LAW'], ['SELECTOR', 'MAIN']]);
      const [a, b] = await Promise.all([app.gql(SET, { u: userId, roles: first }, admin), app.gql(SET, { u: userId, roles: second }, admin)]);
      expect(a.errors).toBeUndefined();
      expect(b.errors).toBeUndefined();
      const result = await rolesOf(userId);
      expect([asFirst, asSecond]).toContainEqual(result);
      // The history tells the same story: replaying it from the roles held before gives the result.
      const held = new Set(['PATRON@INSTITUTION', `USER_MANAGER@LIBRARY:${inst.libraries.LAW.id}`, `SELECTOR@LIBRARY:${inst.libraries.MAIN.id}`]);
      for (const h of await history(userId)) {
        if (h.oldValue) expect(held.delete(h.oldValue)).toBe(true);
        if (h.newValue) held.add(h.newValue);
      }
      expect(held.size).toBe(3);
    }
  });
});
