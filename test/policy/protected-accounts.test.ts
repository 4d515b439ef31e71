import { buildSchema } from '../../src/schema';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';

/**
 * R4.5: nobody changes exl_*, rialto_* or leganto_guest, the User
 * Administrator included. Every mutation of the schema must be listed here,
 * either with a request against a protected account or as not targeting a
 * user, so a new mutation fails this test until it is classified.
 */

let app: TestApp;
let inst: InstitutionFixture;
let admin: string;
const db = () => app.db.dataSource;
const protectedIds = new Map<string, { userId: string; roleId: string }>();

type Attempt = (token: string, target: { userId: string; roleId: string }, profileId: string) => Promise<GraphQLResponse>;

const AGAINST_A_USER: Record<string, Attempt> = {
  assignRole: (token, t) => app.gql(`mutation($u: ID!) { assignRole(userId: $u, input: { roleType: "CATALOGER", scope: { type: INSTITUTION } }) { id } }`, { u: t.userId }, token),
  removeRole: (token, t) => app.gql(`mutation($r: ID!) { removeRole(roleId: $r) { removedRoleId } }`, { r: t.roleId }, token),
  setRoleActive: (token, t) => app.gql(`mutation($r: ID!) { setRoleActive(roleId: $r, active: false) { id } }`, { r: t.roleId }, token),
  assignRoleProfile: (token, t, profileId) => app.gql(`mutation($u: ID!, $p: ID!) { assignRoleProfile(userId: $u, profileId: $p) { id } }`, { u: t.userId, p: profileId }, token),
};

/** Mutations that take no user as their target (the operator's own session, configuration, keys). */
const NOT_AGAINST_A_USER = [
  'login', 'changePassword', 'createUser', 'createRoleProfile', 'updateRoleProfile', 'deleteRoleProfile',
  'createRoleAssignmentRule', 'deleteRoleAssignmentRule', 'createApiKey', 'revokeApiKey',
];

let profileId: string;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await createPerson(db(), inst, { primaryIdentifier: 'admin', roles: [['USER_ADMINISTRATOR', 'INSTITUTION'], ['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION']] });
  admin = await app.login('admin', PASSWORD);
  for (const id of ['exl_impl', 'rialto_support', 'leganto_guest', 'EXL_Mixed']) {
    const userId = await createPerson(db(), inst, { primaryIdentifier: id, withPassword: false, roles: [['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION']] });
    const [role] = await db().query(`SELECT id FROM role_assignment WHERE user_id = $1`, [userId]);
    protectedIds.set(id, { userId, roleId: role.id });
  }
  const res = await app.gql(`mutation { createRoleProfile(input: { name: "P", roles: [{ roleType: "CATALOGER", scope: { type: INSTITUTION } }] }) { id } }`, {}, admin);
  profileId = res.data.createRoleProfile.id;
});
afterAll(() => app.close());

test('R4.5 every mutation of the schema is classified for this test', () => {
  const mutations = Object.keys(buildSchema().getMutationType()!.getFields()).sort();
  expect([...Object.keys(AGAINST_A_USER), ...NOT_AGAINST_A_USER].filter((m) => mutations.includes(m)).sort()).toEqual(mutations);
});

const cases = Object.keys(AGAINST_A_USER).flatMap((mutation) =>
  ['exl_impl', 'rialto_support', 'leganto_guest', 'EXL_Mixed'].map((account) => [mutation, account] as const));

test.each(cases)('R4.5 %s against %s is refused even for the User Administrator, and changes nothing', async (mutation, account) => {
  const target = protectedIds.get(account)!;
  const before = await db().query(`SELECT role_type, is_active FROM role_assignment WHERE user_id = $1 ORDER BY id`, [target.userId]);
  const res = await AGAINST_A_USER[mutation](admin, target, profileId);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(res.errors?.[0].message).toMatch(/protected account/);
  expect(await db().query(`SELECT role_type, is_active FROM role_assignment WHERE user_id = $1 ORDER BY id`, [target.userId])).toEqual(before);
});
