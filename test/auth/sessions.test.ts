import jwt from 'jsonwebtoken';
import { createInstitution, createPerson, InstitutionFixture, loginOperators, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 9 finding 10: a user's sessions end for good (app_user.sessions_valid_after)
 * on endSessions, a password set by someone else and the loss of the last
 * staff role; deactivation is in test/users/user-status.test.ts.
 */
let app: TestApp;
let inst: InstitutionFixture;
let tokens: Record<string, string>;
const db = () => app.db.dataSource;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  tokens = await loginOperators(app, inst, {
    ua_sessions: ['USER_ADMINISTRATOR', 'INSTITUTION'],
    um_sessions: ['USER_MANAGER', 'INSTITUTION'],
    cdo_sessions: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
  });
});
afterAll(() => app.close());

const END = `mutation($u: ID!) { endSessions(userId: $u) { id primaryIdentifier } }`;
const ME = `{ me { id } }`;
const ENDED = /sessions were ended after this token was issued/;

async function staffWithToken(identifier: string, role: [string, string] = ['CATALOGER', 'INSTITUTION']) {
  const id = await createPerson(db(), inst, { primaryIdentifier: identifier, roles: [role] });
  return { id, token: await app.login(identifier, PASSWORD) };
}
const works = async (token: string) => !!(await app.gql(ME, {}, token)).data?.me?.id;
const sessionsRow = async (id: string) => (await db().query(`SELECT sessions_valid_after, updated_at FROM app_user WHERE id = $1`, [id]))[0];

test('Issue 9 finding 10: an operator ends its own sessions: every earlier token is refused, with the reason', async () => {
  const { id, token } = await staffWithToken('ends_own');
  const other = await app.login('ends_own', PASSWORD);
  const res = await app.gql(END, { u: id }, token);
  expect(res.errors).toBeUndefined();
  expect(res.data.endSessions).toEqual({ id, primaryIdentifier: 'ends_own' });
  for (const t of [token, other]) {
    const me = await app.gql(ME, {}, t);
    expect(me.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(me.errors?.[0].message).toMatch(ENDED);
  }
  expect(await works(await app.login('ends_own', PASSWORD))).toBe(true);
  const [event] = await db().query(`SELECT event_type, actor FROM event_outbox WHERE aggregate_id = $1 ORDER BY id DESC LIMIT 1`, [id]);
  expect(event).toEqual({ event_type: 'USER_SESSIONS_ENDED', actor: 'ends_own' });
});

test("Issue 9 finding 10: an administrator ends another user's sessions", async () => {
  const { id, token } = await staffWithToken('ended_by_admin');
  expect((await app.gql(END, { u: id }, tokens.ua_sessions)).errors).toBeUndefined();
  expect(await works(token)).toBe(false);
  expect(await works(tokens.ua_sessions)).toBe(true);
});

test.each([
  ['a User Manager, on a User Administrator (the subset rule)', 'um_sessions', ['USER_ADMINISTRATOR', 'INSTITUTION']],
  ['a circulation desk operator, on a staff user (patrons only)', 'cdo_sessions', ['CATALOGER', 'INSTITUTION']],
] as const)("Issue 9 finding 10: %s cannot end another's sessions, and nothing changes", async (_name, operator, role) => {
  const { id, token } = await staffWithToken(`protected_${operator}`, [...role]);
  const before = await sessionsRow(id);
  const res = await app.gql(END, { u: id }, tokens[operator]);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(res.data ?? null).toBeNull();
  expect(await sessionsRow(id)).toEqual(before);
  expect(await works(token)).toBe(true);
});

test('Issue 9 finding 10: endSessions of an unknown user id is NOT_FOUND, and a malformed id BAD_USER_INPUT', async () => {
  expect((await app.gql(END, { u: '00000000-0000-4000-8000-000000000000' }, tokens.ua_sessions)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
  expect((await app.gql(END, { u: 'nope' }, tokens.ua_sessions)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
});

test('Issue 9 finding 10: losing the last staff role ends the sessions; getting a role back does not revive the old token', async () => {
  const { id, token } = await staffWithToken('demoted_for_good');
  const [role] = await db().query(`SELECT id FROM role_assignment WHERE user_id = $1`, [id]);
  expect((await app.gql(`mutation($r: ID!) { removeRole(roleId: $r) { removedRoleId } }`, { r: role.id }, tokens.ua_sessions)).errors).toBeUndefined();
  const res = await app.gql(`mutation($u: ID!) { assignRole(userId: $u, input: { roleType: "CATALOGER", scope: { type: INSTITUTION } }) { id } }`, { u: id }, tokens.ua_sessions);
  expect(res.errors).toBeUndefined();
  expect((await app.gql(ME, {}, token)).errors?.[0].message).toMatch(ENDED);
  expect(await works(await app.login('demoted_for_good', PASSWORD))).toBe(true);
});

test('Issue 9 finding 10: deactivating a role ends the sessions only when it was the last staff role', async () => {
  const id = await createPerson(db(), inst, { primaryIdentifier: 'two_roles', roles: [['CATALOGER', 'INSTITUTION'], ['USER_MANAGER', 'INSTITUTION']] });
  const token = await app.login('two_roles', PASSWORD);
  const roles: { id: string }[] = await db().query(`SELECT id FROM role_assignment WHERE user_id = $1 ORDER BY role_type`, [id]);
  const deactivate = (r: string) => app.gql(`mutation($r: ID!) { setRoleActive(roleId: $r, active: false) { id } }`, { r }, tokens.ua_sessions);
  expect((await deactivate(roles[0].id)).errors).toBeUndefined();
  expect(await works(token)).toBe(true);
  expect((await deactivate(roles[1].id)).errors).toBeUndefined();
  expect((await app.gql(`mutation($r: ID!) { setRoleActive(roleId: $r, active: true) { id } }`, { r: roles[1].id }, tokens.ua_sessions)).errors).toBeUndefined();
  expect((await app.gql(ME, {}, token)).errors?.[0].message).toMatch(ENDED);
});

test("Issue 9 finding 10: a password set by an administrator ends the user's sessions", async () => {
  const { id, token } = await staffWithToken('reset_by_admin');
  const res = await app.gql(`mutation($u: ID!) { setUserPassword(userId: $u, password: "brand new secret 1") { id } }`, { u: id }, tokens.ua_sessions);
  expect(res.errors).toBeUndefined();
  expect((await app.gql(ME, {}, token)).errors?.[0].message).toMatch(ENDED);
});

test('Issue 9 finding 10: ending sessions always moves the epoch forward, by at least 1 ms, at millisecond precision', async () => {
  const { id } = await staffWithToken('bumped_twice');
  // A value ahead of the clock (as after a bump a moment ago on a host whose clock runs ahead): the next bump still moves past it.
  await db().query(`UPDATE app_user SET sessions_valid_after = now() + interval '1 hour' WHERE id = $1`, [id]);
  const [{ at: far }] = await db().query(`SELECT sessions_valid_after AS at FROM app_user WHERE id = $1`, [id]);
  expect((await app.gql(END, { u: id }, tokens.ua_sessions)).errors).toBeUndefined();
  const [after] = await db().query(`SELECT sessions_valid_after AS at, extract(microseconds FROM sessions_valid_after)::int % 1000 AS micros FROM app_user WHERE id = $1`, [id]);
  expect(after.at.getTime()).toBeGreaterThan(far.getTime());
  expect(after.micros).toBe(0);
});

test('Issue 9 finding 10: a token signed before the upgrade (claim pwd) stays valid until the sessions are next ended', async () => {
  const { id } = await staffWithToken('legacy_token');
  // What the migration leaves behind: sessions_valid_after copied from password_changed_at.
  await db().query(`UPDATE app_user SET password_changed_at = date_trunc('milliseconds', now()), sessions_valid_after = date_trunc('milliseconds', now()) WHERE id = $1`, [id]);
  const [{ at }] = await db().query(`SELECT password_changed_at AS at FROM app_user WHERE id = $1`, [id]);
  const legacy = jwt.sign({ sub: id, pwd: at.getTime() }, 'test-secret', { algorithm: 'HS256', expiresIn: 600, issuer: 'carrel' });
  expect(await works(legacy)).toBe(true);
  expect((await app.gql(END, { u: id }, tokens.ua_sessions)).errors).toBeUndefined();
  expect(await works(legacy)).toBe(false);
});
