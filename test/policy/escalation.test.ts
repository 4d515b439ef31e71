import type { DataSource } from 'typeorm';
import { ROLE_TYPES } from '../../src/roles/role-types';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';

/**
 * The subset rule, proven by attack (issue 8): nobody gives a role or a
 * credential beyond what they could assign themselves, by any path. Generated:
 * an operator for every staff role type at every scope kind (institution, the
 * MAIN library, the MAIN desk) tries every path that changes roles,
 * passwords, PINs, sign-in settings, account type, profiles, assignment rules
 * or API keys, against whatever holds more power than it (an institution
 * administrator, a staff user of another library, a library-scoped staff user
 * for a desk-scoped operator, an institution or Law profile, rule or key) and
 * against itself. Every attempt must be refused and leave every table as it was.
 *
 * Who holds more power is decided here by the rule's own statement, not by the
 * policy's code: only a User Administrator grants roles, and only where its
 * scope reaches (institution: everywhere; library: that library and its
 * desks; desk: that desk).
 */

type ScopeKind = 'INSTITUTION' | 'MAIN' | 'MAIN_DESK';
type Scope = ScopeKind | 'LAW' | 'LAW_DESK';
interface Operator { roleType: string; scope: ScopeKind; identifier: string; id: string; token: string }
interface TargetUser { name: string; id: string; roles: [string, Scope][]; roleId: string }

const SCOPE_KINDS: ScopeKind[] = ['INSTITUTION', 'MAIN', 'MAIN_DESK'];

/** Whether an operator's scope reaches a role's scope when handing roles out. */
function reaches(holder: ScopeKind, role: Scope): boolean {
  if (holder === 'INSTITUTION') return true;
  if (holder === 'MAIN') return role === 'MAIN' || role === 'MAIN_DESK';
  return role === 'MAIN_DESK';
}
const mayGrant = (op: Operator, scope: Scope) => op.roleType === 'USER_ADMINISTRATOR' && reaches(op.scope, scope);
const morePowerful = (op: Operator, target: TargetUser) => target.id === op.id || target.roles.some(([, scope]) => !mayGrant(op, scope));

let app: TestApp;
let inst: InstitutionFixture;
const operators: Operator[] = [];
const targets: Record<string, TargetUser> = {};
/** Profiles, rules and keys giving User Administrator, General System Administrator and Selector, scoped as named. */
const objects: Record<'INSTITUTION' | 'LAW', { profileId: string; ruleId: string; keyId: string }> = {} as never;
const db = (): DataSource => app.db.dataSource;

function scopeInput(scope: Scope) {
  if (scope === 'INSTITUTION') return { type: 'INSTITUTION' };
  if (scope.endsWith('_DESK')) return { type: 'CIRCULATION_DESK', deskId: inst.libraries[scope.replace('_DESK', '')].deskId };
  return { type: 'LIBRARY', libraryId: inst.libraries[scope].id };
}

async function must(res: Promise<GraphQLResponse>, field: string) {
  const { data, errors } = await res;
  if (errors) throw new Error(`setup ${field} failed: ${JSON.stringify(errors)}`);
  return data[field];
}

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await createPerson(db(), inst, { primaryIdentifier: 'setup_admin', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  const admin = await app.login('setup_admin', PASSWORD);
  for (const [name, roles] of Object.entries({
    institutionAdmin: [['USER_ADMINISTRATOR', 'INSTITUTION'], ['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION']],
    lawStaff: [['USER_ADMINISTRATOR', 'LAW'], ['CIRCULATION_DESK_MANAGER', 'LAW_DESK']],
    mainStaff: [['CATALOGER', 'MAIN']],
  } as Record<string, [string, Scope][]>)) {
    const id = await createPerson(db(), inst, { primaryIdentifier: `target_${name.toLowerCase()}`, roles: [...roles, ['PATRON', 'INSTITUTION']] });
    const [role] = await db().query(`SELECT id FROM role_assignment WHERE user_id = $1 AND role_type = $2`, [id, roles[0][0]]);
    targets[name] = { name, id, roles, roleId: role.id };
  }
  for (const scope of ['INSTITUTION', 'LAW'] as const) {
    // SELECTOR, held by no target, makes sure a rule firing on any target would hand out something.
    const roles = ['USER_ADMINISTRATOR', 'GENERAL_SYSTEM_ADMINISTRATOR', 'SELECTOR'].map((roleType) => ({ roleType, scope: scopeInput(scope) }));
    const profile = await must(app.gql(`mutation($in: RoleProfileInput!) { createRoleProfile(input: $in) { id } }`,
      { in: { name: `${scope} administration`, roles } }, admin), 'createRoleProfile');
    const rule = await must(app.gql(`mutation($in: RoleAssignmentRuleInput!) { createRoleAssignmentRule(input: $in) { id } }`,
      { in: { jobCategory: scope === 'INSTITUTION' ? 'LIBRARIAN' : null, userGroup: scope === 'LAW' ? 'STAFF' : null, profileId: profile.id } }, admin),
    'createRoleAssignmentRule');
    const key = await must(app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { apiKey { id } } }`,
      { in: { name: `${scope} partner`, roles } }, admin), 'createApiKey');
    objects[scope] = { profileId: profile.id, ruleId: rule.id, keyId: key.apiKey.id };
  }
  for (const role of ROLE_TYPES.filter((r) => r.staff && r.needsScope)) {
    for (const scope of SCOPE_KINDS) {
      const identifier = `op_${role.code.toLowerCase()}_${scope.toLowerCase()}`;
      const id = await createPerson(db(), inst, { primaryIdentifier: identifier, roles: [[role.code, scope], ['PATRON', 'INSTITUTION']] });
      operators.push({ roleType: role.code, scope, identifier, id, token: await app.login(identifier, PASSWORD) });
    }
  }
});
let attempted = 0;
afterAll(async () => {
  // Printed so the figure can be quoted.
  console.log(`escalation: ${attempted} attempts by ${operators.length} operators, all refused, nothing changed`);
  await app.close();
});

// ---------------------------------------------------------------- the paths

type UserPath = (op: Operator, target: TargetUser) => Promise<GraphQLResponse>;
type ObjectPath = (op: Operator, scope: 'INSTITUTION' | 'LAW') => Promise<GraphQLResponse>;
const gql = (op: Operator, query: string, variables: Record<string, unknown>) => app.gql(query, variables, op.token);
/** A role the operator could hand out itself, so only the target decides. */
const ownScopeRole = (op: Operator) => ({ roleType: 'CATALOGER', scope: scopeInput(op.scope) });

const USER_PATHS: Record<string, UserPath> = {
  assignRole: (op, t) => gql(op, `mutation($u: ID!, $in: RoleInput!) { assignRole(userId: $u, input: $in) { id } }`, { u: t.id, in: ownScopeRole(op) }),
  removeRole: (op, t) => gql(op, `mutation($r: ID!) { removeRole(roleId: $r) { removedRoleId } }`, { r: t.roleId }),
  setRoleActive: (op, t) => gql(op, `mutation($r: ID!) { setRoleActive(roleId: $r, active: false) { id } }`, { r: t.roleId }),
  setUserPassword: (op, t) => gql(op, `mutation($u: ID!) { setUserPassword(userId: $u, password: "escalated secret 1") { id } }`, { u: t.id }),
  setUserPin: (op, t) => gql(op, `mutation($u: ID!) { setUserPin(userId: $u, pin: "4242") { id } }`, { u: t.id }),
  // Lifting a sign-in lockout is a change of access too. (endSessions is not here: ending one's own sessions is allowed.)
  unlockUser: (op, t) => gql(op, `mutation($u: ID!) { unlockUser(userId: $u) { id } }`, { u: t.id }),
  toggleAccountType: (op, t) => gql(op, `mutation($u: ID!) { toggleAccountType(userId: $u) { id } }`, { u: t.id }),
  'updateUser(forcePasswordChange)': (op, t) => gql(op, `mutation($u: ID!) { updateUser(id: $u, input: { forcePasswordChange: true }) { id } }`, { u: t.id }),
  'updateUser(mfaEnabled)': (op, t) => gql(op, `mutation($u: ID!) { updateUser(id: $u, input: { mfaEnabled: true }) { id } }`, { u: t.id }),
  // The LIBRARIAN rule hands out the institution profile; the target holds powers the operator cannot grant.
  'updateUser(jobCategory triggers a rule)': (op, t) => gql(op, `mutation($u: ID!) { updateUser(id: $u, input: { jobCategory: "LIBRARIAN" }) { id } }`, { u: t.id }),
  // Removing a user takes its roles away: the same rule as changing them (R10.1).
  deleteUser: (op, t) => gql(op, `mutation($u: ID!) { deleteUser(id: $u) { deletedUserId } }`, { u: t.id }),
  purgeUser: (op, t) => gql(op, `mutation($u: ID!) { purgeUser(id: $u) { id } }`, { u: t.id }),
};

const OBJECT_PATHS: Record<string, ObjectPath> = {
  createRoleProfile: (op, scope) => gql(op, `mutation($in: RoleProfileInput!) { createRoleProfile(input: $in) { id } }`,
    { in: { name: `escalation ${op.identifier}`, roles: [{ roleType: 'USER_ADMINISTRATOR', scope: scopeInput(scope) }] } }),
  // Overwriting with roles the operator could grant: only the profile's present roles make it out of reach.
  updateRoleProfile: (op, scope) => gql(op, `mutation($id: ID!, $in: RoleProfileInput!) { updateRoleProfile(id: $id, input: $in) { id } }`,
    { id: objects[scope].profileId, in: { name: `${scope} administration`, roles: [ownScopeRole(op)] } }),
  deleteRoleProfile: (op, scope) => gql(op, `mutation($id: ID!) { deleteRoleProfile(id: $id) }`, { id: objects[scope].profileId }),
  createRoleAssignmentRule: (op, scope) => gql(op, `mutation($in: RoleAssignmentRuleInput!) { createRoleAssignmentRule(input: $in) { id } }`,
    { in: { userGroup: 'UNDERGRAD', profileId: objects[scope].profileId } }),
  deleteRoleAssignmentRule: (op, scope) => gql(op, `mutation($id: ID!) { deleteRoleAssignmentRule(id: $id) }`, { id: objects[scope].ruleId }),
  // A new user in the rule's job category or user group would be handed the profile's roles.
  'createUser(matching a rule)': (op, scope) => gql(op, `mutation($in: CreateUserInput!) { createUser(input: $in) { user { id } } }`, { in: {
    recordType: 'STAFF', primaryIdentifier: `esc_${op.identifier}`, firstName: 'Esc', lastName: 'Alation',
    emails: [{ address: `${op.identifier}@example.edu`, type: 'WORK' }],
    ...(scope === 'INSTITUTION' ? { jobCategory: 'LIBRARIAN' } : { userGroup: 'STAFF' }),
  } }),
  assignRoleProfile: (op, scope) => gql(op, `mutation($u: ID!, $p: ID!) { assignRoleProfile(userId: $u, profileId: $p) { id } }`,
    { u: targets.mainStaff.id, p: objects[scope].profileId }),
  createApiKey: (op, scope) => gql(op, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`,
    { in: { name: `escalation ${op.identifier}`, roles: [{ roleType: 'USER_ADMINISTRATOR', scope: scopeInput(scope) }] } }),
  revokeApiKey: (op, scope) => gql(op, `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: objects[scope].keyId }),
};

// ---------------------------------------------------------------- the proof

const FINGERPRINTED = ['app_user', 'role_assignment', 'role_profile', 'role_profile_entry', 'role_assignment_rule', 'api_key', 'history_entry', 'event_outbox'];

async function fingerprint(): Promise<string> {
  const [row] = await db().query(`SELECT ${FINGERPRINTED.map((t) => `(SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM ${t} x) AS ${t}`).join(', ')}`);
  return JSON.stringify(row);
}

/** Runs the attempts; each must be refused FORBIDDEN, and together they must change nothing. */
async function allRefused(attempts: [string, () => Promise<GraphQLResponse>][]) {
  const before = await fingerprint();
  const outcomes: [string, unknown][] = [];
  for (const [what, attempt] of attempts) {
    attempted += 1;
    const res = await attempt();
    outcomes.push([what, res.errors?.map((e) => e.extensions?.code) ?? res.data]);
  }
  expect(outcomes).toEqual(attempts.map(([what]) => [what, ['FORBIDDEN']]));
  expect(await fingerprint()).toBe(before);
}

const operatorNames = ROLE_TYPES.filter((r) => r.staff && r.needsScope).flatMap((r) => SCOPE_KINDS.map((s) => `${r.code}@${s}`));
const byName = (name: string) => operators.find((o) => `${o.roleType}@${o.scope}` === name)!;

describe.each(Object.keys(USER_PATHS))('R4 subset rule: %s on a user holding more power, or on oneself', (path) => {
  test.each(operatorNames)('is refused to %s', async (name) => {
    const op = byName(name);
    const [ownRole] = await db().query(`SELECT id FROM role_assignment WHERE user_id = $1 AND role_type = $2`, [op.id, op.roleType]);
    const itself: TargetUser = { name: 'itself', id: op.id, roles: [[op.roleType, op.scope]], roleId: ownRole.id };
    const aimed = [...Object.values(targets), itself].filter((t) => morePowerful(op, t));
    await allRefused(aimed.map((t) => [`${path} on ${t.name}`, () => USER_PATHS[path](op, t)]));
  });
});

describe.each(Object.keys(OBJECT_PATHS))('R4 subset rule: %s with roles beyond the operator\'s grant', (path) => {
  test.each(operatorNames)('is refused to %s', async (name) => {
    const op = byName(name);
    const scopes = (['INSTITUTION', 'LAW'] as const).filter((scope) => !mayGrant(op, scope));
    await allRefused(scopes.map((scope) => [`${path} at ${scope}`, () => OBJECT_PATHS[path](op, scope)]));
  });
});

test('the generated cases include operators that could otherwise act: every User Administrator, at every scope kind', () => {
  // Sanity of the oracle: an institution User Administrator is refused only on itself; a desk one on all three targets.
  const ua = (scope: ScopeKind) => ({ roleType: 'USER_ADMINISTRATOR', scope, identifier: '', id: 'x', token: '' });
  expect(Object.values(targets).filter((t) => morePowerful(ua('INSTITUTION'), t))).toEqual([]);
  expect(Object.values(targets).filter((t) => morePowerful(ua('MAIN'), t)).map((t) => t.name).sort()).toEqual(['institutionAdmin', 'lawStaff']);
  expect(Object.values(targets).filter((t) => morePowerful(ua('MAIN_DESK'), t)).map((t) => t.name).sort()).toEqual(['institutionAdmin', 'lawStaff', 'mainStaff']);
});
