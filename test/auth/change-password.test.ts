import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

let app: TestApp;
let inst: InstitutionFixture;

const CHANGE = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token passwordChangeRequired } }`;
const LOGIN = `mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token passwordChangeRequired } }`;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(app.db.dataSource);
});
afterAll(() => app.close());

async function mustChange(identifier: string) {
  const id = await createPerson(app.db.dataSource, inst, { primaryIdentifier: identifier, roles: [['USER_MANAGER', 'INSTITUTION']] });
  await app.db.dataSource.query(`UPDATE app_user SET force_password_change = true WHERE id = $1`, [id]);
  return id;
}

test('R1.4 login says when a password change is required', async () => {
  await mustChange('forced1');
  const res = await app.gql(LOGIN, { i: 'forced1', p: PASSWORD });
  expect(res.data.login.passwordChangeRequired).toBe(true);
});

test('R1.4 until the password is changed, every other operation is FORBIDDEN', async () => {
  await mustChange('forced2');
  const token = (await app.gql(LOGIN, { i: 'forced2', p: PASSWORD })).data.login.token;
  const res = await app.gql(`{ users(first: 1) { totalCount } }`, {}, token);
  expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
  expect(res.errors?.[0].message).toMatch(/changePassword/);
});

test('R1.4 changePassword clears the requirement and returns a working token', async () => {
  await mustChange('forced3');
  const token = (await app.gql(LOGIN, { i: 'forced3', p: PASSWORD })).data.login.token;
  const changed = await app.gql(CHANGE, { c: PASSWORD, n: 'a much better secret' }, token);
  expect(changed.errors).toBeUndefined();
  expect(changed.data.changePassword.passwordChangeRequired).toBe(false);
  const res = await app.gql(`{ users(first: 1) { totalCount } }`, {}, changed.data.changePassword.token);
  expect(res.errors).toBeUndefined();
});

test('a password change revokes the tokens issued before it', async () => {
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'rotating', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const old = await app.login('rotating', PASSWORD);
  await app.gql(CHANGE, { c: PASSWORD, n: 'another good secret' }, old);
  const res = await app.gql(`{ me { id } }`, {}, old);
  expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
});

test('R1.4 a new password shorter than 8 characters is refused with the reason', async () => {
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'shorty', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const res = await app.gql(CHANGE, { c: PASSWORD, n: 'short' }, await app.login('shorty', PASSWORD));
  expect(res.errors?.[0]).toMatchObject({ message: 'The password must have at least 8 characters', extensions: { code: 'BAD_USER_INPUT', field: 'newPassword' } });
});

test('R1.4 a new password containing the primary identifier is refused', async () => {
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'jsmith', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const res = await app.gql(CHANGE, { c: PASSWORD, n: 'JSmith-2026!' }, await app.login('jsmith', PASSWORD));
  expect(res.errors?.[0].message).toBe('The password must not contain the primary identifier');
});

test('a wrong current password is refused and nothing changes', async () => {
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'guesser', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const res = await app.gql(CHANGE, { c: 'not it at all', n: 'a fine new password' }, await app.login('guesser', PASSWORD));
  expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  expect((await app.gql(LOGIN, { i: 'guesser', p: PASSWORD })).data.login.token).toBeTruthy();
});

test('R9.1 a password change is recorded as a fact, never the value', async () => {
  const id = await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'historian', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await app.gql(CHANGE, { c: PASSWORD, n: 'secret value 123' }, await app.login('historian', PASSWORD));
  const rows = await app.db.dataSource.query(`SELECT field, old_value, new_value FROM history_entry WHERE user_id = $1`, [id]);
  expect(rows).toEqual([{ field: 'password', old_value: null, new_value: '(changed)' }]);
});
