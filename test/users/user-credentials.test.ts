import type { DataSource } from 'typeorm';
import { createInstitution, createPatron, createPerson, InstitutionFixture, loginOperators, PASSWORD, userTableCounts } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';

/**
 * Specification of setUserPassword and setUserPin (issue 8, finding 1):
 * another user's credentials are their own action, allowed only when the
 * operator could grant every role the user holds (the subset rule), never
 * for protected accounts or oneself; R1.4 policy; R9.1 history of the fact.
 */

let app: TestApp;
let inst: InstitutionFixture;
let tokens: Record<string, string>;
const db = (): DataSource => app.db.dataSource;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  tokens = await loginOperators(app, inst, {
    um_inst: ['USER_MANAGER', 'INSTITUTION'],
    um_law: ['USER_MANAGER', 'LAW'],
    ua_inst: ['USER_ADMINISTRATOR', 'INSTITUTION'],
    ua_law: ['USER_ADMINISTRATOR', 'LAW'],
    cdo_main: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
  });
});
afterAll(() => app.close());

const SET_PASSWORD = `mutation($u: ID!, $p: String) { setUserPassword(userId: $u, password: $p) { id hasPassword } }`;
const SET_PIN = `mutation($u: ID!, $p: String) { setUserPin(userId: $u, pin: $p) { id } }`;
const setPassword = (userId: string, password: string | null, operator: string): Promise<GraphQLResponse> =>
  app.gql(SET_PASSWORD, { u: userId, p: password }, tokens[operator]);

const userRow = async (id: string) => (await db().query(`SELECT * FROM app_user WHERE id = $1`, [id]))[0];
const historyOf = (userId: string): Promise<{ field: string; old_value: string | null; new_value: string | null; changed_by: string }[]> =>
  db().query(`SELECT field, old_value, new_value, changed_by FROM history_entry WHERE user_id = $1 ORDER BY id`, [userId]);

/** Sends a credential change that must be refused with `code`; proves nothing changed and returns the error. */
async function refused(query: string, userId: string, value: string | null, operator: string, code: string) {
  const [counts, row] = [await userTableCounts(db()), await userRow(userId)];
  const res = await app.gql(query, { u: userId, p: value }, tokens[operator]);
  expect(res.errors?.[0].extensions?.code).toBe(code);
  expect(await userTableCounts(db())).toEqual(counts);
  expect(await userRow(userId)).toEqual(row);
  return res.errors![0];
}

// ---------------------------------------------------------------- issue 8 finding 1: who may set a password

test('R4.2 finding 1: a library-scoped User Manager cannot set the password of an institution User Administrator', async () => {
  const target = await createPerson(db(), inst, { primaryIdentifier: 'victim_ua', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  const error = await refused(SET_PASSWORD, target, 'taken over 123', 'um_law', 'FORBIDDEN');
  expect(error.message).toMatch(/USER_ADMINISTRATOR@INSTITUTION/);
  await expect(app.login('victim_ua', 'taken over 123')).rejects.toThrow();
});

test('R4.2 finding 1: a desk Circulation Desk Operator cannot set the password of a patron holding an institution staff role', async () => {
  const target = await createPatron(db(), inst, { primaryIdentifier: 'public_staff', withPassword: true, roles: [['PATRON', 'INSTITUTION'], ['USER_MANAGER', 'INSTITUTION']] });
  await refused(SET_PASSWORD, target, 'taken over 123', 'cdo_main', 'FORBIDDEN');
});

test('R4.2 even an institution User Manager cannot set the password of a user holding a role with power: it can grant none', async () => {
  const target = await createPerson(db(), inst, { roles: [['CATALOGER', 'MAIN']] });
  await refused(SET_PASSWORD, target, 'taken over 123', 'um_inst', 'FORBIDDEN');
});

test('R4.1 a Law User Administrator sets the password of a Law cataloger, not of a Main one', async () => {
  const lawStaff = await createPerson(db(), inst, { roles: [['CATALOGER', 'LAW']] });
  expect((await setPassword(lawStaff, 'set by law admin 1', 'ua_law')).errors).toBeUndefined();
  const mainStaff = await createPerson(db(), inst, { roles: [['CATALOGER', 'MAIN']] });
  await refused(SET_PASSWORD, mainStaff, 'set by law admin 1', 'ua_law', 'FORBIDDEN');
});

test('R4.3 an inactive role still counts: switched back on it would give its power', async () => {
  const target = await createPerson(db(), inst, { roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  await db().query(`UPDATE role_assignment SET is_active = false WHERE user_id = $1`, [target]);
  await refused(SET_PASSWORD, target, 'taken over 123', 'ua_law', 'FORBIDDEN');
});

test('R4.2 a circulation desk operator resets a patron\'s password (a patron holds no role with power)', async () => {
  const target = await createPatron(db(), inst, { primaryIdentifier: 'reader_pw' });
  const res = await setPassword(target, 'desk chosen secret', 'cdo_main');
  expect(res.errors).toBeUndefined();
  expect(res.data.setUserPassword.hasPassword).toBe(true);
});

test('R4.5 nobody sets the password of a protected account', async () => {
  const target = await createPerson(db(), inst, { primaryIdentifier: 'exl_support', roles: [['PATRON', 'INSTITUTION']] });
  await refused(SET_PASSWORD, target, 'taken over 123', 'ua_inst', 'FORBIDDEN');
});

test('nobody sets their own password this way: changePassword asks for the current one', async () => {
  const [self] = await db().query(`SELECT id FROM app_user WHERE primary_identifier = 'ua_inst'`);
  const error = await refused(SET_PASSWORD, self.id, 'no current needed', 'ua_inst', 'FORBIDDEN');
  expect(error.message).toMatch(/changePassword/);
});

test('an unauthenticated client is UNAUTHENTICATED and changes nothing', async () => {
  const target = await createPatron(db(), inst);
  const res = await app.gql(SET_PASSWORD, { u: target, p: 'anonymous secret' });
  expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  expect((await userRow(target)).password_hash).toBeNull();
});

// ---------------------------------------------------------------- R1.4 the password itself

test('R1.4 a password shorter than 8 characters is refused and says why', async () => {
  const error = await refused(SET_PASSWORD, await createPatron(db(), inst), 'short', 'um_inst', 'BAD_USER_INPUT');
  expect(error.extensions).toMatchObject({ field: 'password' });
  expect(error.message).toMatch(/8 characters/);
});

test('R1.4 a password containing the primary identifier is refused', async () => {
  const error = await refused(SET_PASSWORD, await createPatron(db(), inst, { primaryIdentifier: 'pw_owner' }), 'my-PW_OWNER-secret', 'um_inst', 'BAD_USER_INPUT');
  expect(error.message).toMatch(/primary identifier/);
});

test('R1.4 R3.3 only INTERNAL accounts have a password here', async () => {
  for (const accountType of ['EXTERNAL', 'INTERNAL_WITH_EXTERNAL_AUTH'] as const) {
    const target = await createPatron(db(), inst, { accountType });
    expect((await refused(SET_PASSWORD, target, 'long enough secret', 'um_inst', 'BAD_USER_INPUT')).extensions).toMatchObject({ field: 'password' });
  }
});

test('R1.4 a password set by an administrator stops the user\'s earlier tokens; the new password logs in', async () => {
  const id = await createPerson(db(), inst, { primaryIdentifier: 'staff_pw', roles: [['CATALOGER', 'INSTITUTION']] });
  const token = await app.login('staff_pw', PASSWORD);
  expect((await setPassword(id, 'set by the admin 1', 'ua_inst')).errors).toBeUndefined();
  expect((await app.gql(`{ me { id } }`, {}, token)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  await expect(app.login('staff_pw', 'set by the admin 1')).resolves.toEqual(expect.any(String));
});

test('R9.1 a password set is recorded as a fact only, never the value', async () => {
  const id = await createPatron(db(), inst);
  const secret = 'a brand new secret';
  expect((await setPassword(id, secret, 'um_inst')).errors).toBeUndefined();
  expect(await historyOf(id)).toEqual([{ field: 'password', old_value: null, new_value: '(changed)', changed_by: 'um_inst' }]);
  const [stored] = await db().query(`SELECT count(*)::int AS n FROM history_entry h, event_outbox e
     WHERE h.new_value LIKE '%' || $1 || '%' OR h.old_value LIKE '%' || $1 || '%' OR e.payload::text LIKE '%' || $1 || '%'`, [secret]);
  expect(stored.n).toBe(0);
});

test('R1.4 null removes the password: recorded as removed, and the user\'s tokens stop working', async () => {
  const id = await createPerson(db(), inst, { primaryIdentifier: 'staff_nopw', roles: [['CATALOGER', 'INSTITUTION']] });
  const token = await app.login('staff_nopw', PASSWORD);
  expect((await setPassword(id, null, 'ua_inst')).data.setUserPassword.hasPassword).toBe(false);
  expect(await historyOf(id)).toEqual([{ field: 'password', old_value: null, new_value: '(removed)', changed_by: 'ua_inst' }]);
  expect((await app.gql(`{ me { id } }`, {}, token)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
});

// ---------------------------------------------------------------- the PIN

test('R1.4 a PIN is exactly four digits', async () => {
  expect((await refused(SET_PIN, await createPatron(db(), inst), '12a4', 'um_inst', 'BAD_USER_INPUT')).extensions).toMatchObject({ field: 'pin' });
});

test('R9.1 a PIN set is recorded as a fact only, never the digits; external accounts keep a PIN too (R3.3)', async () => {
  const id = await createPatron(db(), inst, { accountType: 'EXTERNAL' });
  expect((await app.gql(SET_PIN, { u: id, p: '4321' }, tokens.cdo_main)).errors).toBeUndefined();
  expect((await userRow(id)).pin_number).toBe('4321');
  expect(await historyOf(id)).toEqual([{ field: 'pinNumber', old_value: null, new_value: '(changed)', changed_by: 'cdo_main' }]);
});

test('R4.2 finding 1: the PIN follows the same subset rule as the password', async () => {
  const target = await createPerson(db(), inst, { roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  await refused(SET_PIN, target, '9999', 'um_law', 'FORBIDDEN');
});

test('updateUser no longer takes a password or a PIN: they are credentials with their own mutations', async () => {
  const id = await createPatron(db(), inst);
  for (const input of [{ password: 'long enough secret' }, { pinNumber: '1234' }]) {
    const res = await app.gql(`mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) { id } }`, { id, in: input }, tokens.um_inst);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  }
});

// ---------------------------------------------------------------- hostile input: a clear code, never INTERNAL_SERVER_ERROR, nothing written

test('a malformed or unknown user id is BAD_USER_INPUT or NOT_FOUND, never an internal error', async () => {
  expect((await setPassword('not-a-uuid', 'long enough secret', 'um_inst')).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
  expect((await setPassword('00000000-0000-4000-8000-000000000000', 'long enough secret', 'um_inst')).errors?.[0].extensions?.code).toBe('NOT_FOUND');
});

test('R1.4 a PIN with a NUL byte, an empty PIN or a long one is BAD_USER_INPUT naming pin', async () => {
  const id = await createPatron(db(), inst);
  for (const pin of ['12\u000034', '', '1'.repeat(10_000)]) {
    expect((await refused(SET_PIN, id, pin, 'um_inst', 'BAD_USER_INPUT')).extensions).toMatchObject({ field: 'pin' });
  }
});

test('a password with a NUL byte is BAD_USER_INPUT naming password, like any control character in a single-line input (issue 9), and nothing is stored', async () => {
  const id = await createPatron(db(), inst, { primaryIdentifier: 'nul_pw' });
  expect((await setPassword(id, 'nul\u0000inside secret', 'um_inst')).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
  expect((await userRow(id)).password_hash).toBeNull();
});

test('permissionHistory refuses forged cursors and page sizes with BAD_USER_INPUT', async () => {
  const forged = ['garbage', Buffer.from('h:99999999999999999999').toString('base64url'), Buffer.from('h:-1').toString('base64url')];
  for (const after of forged) {
    const res = await app.gql(`query($a: String) { permissionHistory(after: $a) { totalCount } }`, { a: after }, tokens.ua_inst);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  }
  for (const first of [0, 101]) {
    const res = await app.gql(`query($f: Int) { permissionHistory(first: $f) { totalCount } }`, { f: first }, tokens.ua_inst);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  }
});

test('R4.3 a role expiry in year 0001 or an unknown profile id in a rule is BAD_USER_INPUT, not an internal error', async () => {
  const patronId = await createPatron(db(), inst);
  const assign = await app.gql(`mutation($u: ID!) { assignRole(userId: $u, input: { roleType: "CATALOGER", scope: { type: INSTITUTION }, expiryDate: "0001-01-01" }) { id } }`,
    { u: patronId }, tokens.ua_inst);
  expect(assign.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.expiryDate' });
  for (const profileId of ['not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
    const rule = await app.gql(`mutation($p: ID!) { createRoleAssignmentRule(input: { userGroup: "UNDERGRAD", profileId: $p }) { id } }`, { p: profileId }, tokens.ua_inst);
    expect(rule.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.profileId' });
  }
});
