import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

let app: TestApp;
let inst: InstitutionFixture;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(app.db.dataSource);
});
afterAll(() => app.close());

const LOGIN = `mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token expiresAt passwordChangeRequired user { primaryIdentifier } } }`;

async function attempts(identifier: string) {
  return app.db.dataSource.query(`SELECT succeeded, reason FROM login_attempt WHERE identifier = $1 ORDER BY id`, [identifier]);
}

test('login with the primary identifier and password returns a token and the user', async () => {
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'jlibrarian', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const res = await app.gql(LOGIN, { i: 'jlibrarian', p: PASSWORD });
  expect(res.errors).toBeUndefined();
  expect(res.data.login.token).toMatch(/^ey/);
  expect(new Date(res.data.login.expiresAt).getTime()).toBeGreaterThan(Date.now());
  expect(res.data.login.user.primaryIdentifier).toBe('jlibrarian');
  expect(await attempts('jlibrarian')).toEqual([{ succeeded: true, reason: null }]);
});

test('R2.4 login matches the primary identifier case-insensitively', async () => {
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'CaseStaff', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const res = await app.gql(LOGIN, { i: 'casestaff', p: PASSWORD });
  expect(res.data?.login.user.primaryIdentifier).toBe('CaseStaff');
});

test('login with an additional identifier works', async () => {
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'byid', roles: [['USER_MANAGER', 'INSTITUTION']], identifiers: [['BARCODE', 'B-LOGIN-1']] });
  const res = await app.gql(LOGIN, { i: 'B-LOGIN-1', p: PASSWORD });
  expect(res.data?.login.user.primaryIdentifier).toBe('byid');
});

test('a wrong password is UNAUTHENTICATED and the failed attempt is recorded', async () => {
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'wrongpw', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const res = await app.gql(LOGIN, { i: 'wrongpw', p: 'not the password' });
  expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  expect(res.data).toBeNull();
  expect(await attempts('wrongpw')).toEqual([{ succeeded: false, reason: 'wrong password' }]);
});

test('an unknown identifier gets the same message as a wrong password', async () => {
  const res = await app.gql(LOGIN, { i: 'nobody-here', p: PASSWORD });
  expect(res.errors?.[0]).toMatchObject({ message: 'Invalid identifier or password', extensions: { code: 'UNAUTHENTICATED' } });
});

test('R1.5 an inactive user cannot log in', async () => {
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'gone', status: 'INACTIVE', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const res = await app.gql(LOGIN, { i: 'gone', p: PASSWORD });
  expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  expect(res.errors?.[0].message).toMatch(/inactive or expired/);
});

test('R1.5 an expired user cannot log in', async () => {
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'expired', expiryDate: '2020-01-01', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const res = await app.gql(LOGIN, { i: 'expired', p: PASSWORD });
  expect(res.errors?.[0].message).toMatch(/inactive or expired/);
});

test('a user without a staff role cannot log in', async () => {
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'patrononly', recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']] });
  const res = await app.gql(LOGIN, { i: 'patrononly', p: PASSWORD });
  expect(res.errors?.[0].message).toMatch(/no staff role/);
});

test('R4.5 the technical account exl_api cannot log in as staff', async () => {
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'exl_api', roles: [['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION']] });
  const res = await app.gql(LOGIN, { i: 'exl_api', p: PASSWORD });
  expect(res.errors?.[0]).toMatchObject({ message: 'Login refused: Technical accounts cannot log in as staff', extensions: { code: 'UNAUTHENTICATED' } });
});

test('every operation but login needs a token: me without one is UNAUTHENTICATED', async () => {
  const res = await app.gql(`{ me { id } }`);
  expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
});

test('a forged token is UNAUTHENTICATED', async () => {
  const res = await app.gql(`{ me { id } }`, {}, 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad');
  expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
});

test('me returns the operator behind the token', async () => {
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'itsme', roles: [['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']] });
  const token = await app.login('itsme', PASSWORD);
  const res = await app.gql(`{ me { primaryIdentifier roles { roleType scope { type library { code } desk { code } } } } }`, {}, token);
  expect(res.data.me.primaryIdentifier).toBe('itsme');
  expect(res.data.me.roles).toEqual([{ roleType: 'CIRCULATION_DESK_OPERATOR', scope: { type: 'CIRCULATION_DESK', library: { code: 'MAIN' }, desk: { code: 'MAIN_DESK' } } }]);
});

test('a token stops working at once when its user is deactivated', async () => {
  const id = await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'soongone', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const token = await app.login('soongone', PASSWORD);
  expect((await app.gql(`{ me { id } }`, {}, token)).data.me.id).toBe(id);
  await app.db.dataSource.query(`UPDATE app_user SET status = 'INACTIVE' WHERE id = $1`, [id]);
  const res = await app.gql(`{ me { id } }`, {}, token);
  expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
});

test('a token stops working when its user loses every staff role', async () => {
  const id = await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'demoted', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const token = await app.login('demoted', PASSWORD);
  await app.db.dataSource.query(`DELETE FROM role_assignment WHERE user_id = $1`, [id]);
  const res = await app.gql(`{ me { id } }`, {}, token);
  expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
});

test('a token stops working when its user changes password, and the refusal says why', async () => {
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'rotated', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const token = await app.login('rotated', PASSWORD);
  const changed = await app.gql(`mutation { changePassword(currentPassword: "${PASSWORD}", newPassword: "spun around 2026") { token } }`, {}, token);
  expect(changed.errors).toBeUndefined();
  const res = await app.gql(`{ me { id } }`, {}, token);
  expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  expect(res.errors?.[0].message).toMatch(/sessions were ended after this token was issued \(password change/);
});
