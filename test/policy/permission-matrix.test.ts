import { ACTIONS, Action, grantsFor } from '../../src/policy/permissions';
import { ROLE_TYPES, RoleTypeInfo } from '../../src/roles/role-types';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';

/**
 * Generated from the policy's own table: every action x every role type x an
 * in-scope and an out-of-scope target. Each operator holds exactly one role,
 * scoped to the MAIN library when the role takes a scope. "In scope" is a
 * target the grant covers (MAIN library, a patron, the own institution); "out
 * of scope" is one it does not (LAW library, a staff user, another
 * institution). A refused mutation must leave the database unchanged.
 */

type Target = 'in' | 'out';

interface ActionCase {
  mutation: boolean;
  /** Whether the out-of-scope target exists for this action (reports have no target). */
  hasOutOfScope: boolean;
  /** Whether a granted operator may act on the out-of-scope target (false: FORBIDDEN or not found). */
  run(token: string, target: Target): Promise<GraphQLResponse>;
  /** For a granted request: did it do what it should (for 'out', the expected refusal or emptiness)? */
  succeeded(res: GraphQLResponse, target: Target): boolean;
}

let app: TestApp;
let inst: InstitutionFixture;
let other: InstitutionFixture;
let inUser: string;
let otherUser: string;
let serial = 0;
const tokens = new Map<string, string | null>();

const db = () => app.db.dataSource;
const libraryOf = (target: Target) => inst.libraries[target === 'in' ? 'MAIN' : 'LAW'].id;
const libraryRole = (target: Target) => ({ roleType: 'CATALOGER', scope: { type: 'LIBRARY', libraryId: libraryOf(target) } });

const CASES: Record<Action, ActionCase> = {
  'user.read': {
    mutation: false,
    hasOutOfScope: true,
    run: (token, target) => app.gql(`query($id: ID!) { user(id: $id) { id } }`, { id: target === 'in' ? inUser : otherUser }, token),
    // Another institution's user is simply not there.
    succeeded: (res, target) => (target === 'in' ? res.data?.user?.id === inUser : res.data?.user === null && !res.errors),
  },
  'user.create': {
    mutation: true,
    hasOutOfScope: true,
    run: (token, target) => {
      serial += 1;
      return app.gql(`mutation($in: CreateUserInput!) { createUser(input: $in) { user { id } } }`, { in: {
        recordType: target === 'in' ? 'PUBLIC' : 'STAFF', primaryIdentifier: `matrix${serial}`, firstName: 'Matrix', lastName: `Case${serial}`,
        emails: [{ address: `matrix${serial}@example.edu`, type: 'PERSONAL' }],
      } }, token);
    },
    succeeded: (res) => !!res.data?.createUser?.user?.id,
  },
  'role.assign': {
    mutation: true,
    hasOutOfScope: true,
    run: (token, target) => {
      serial += 1;
      const scope = { type: 'LIBRARY', libraryId: libraryOf(target) };
      // A fresh role each time so an allowed assignment never collides with an earlier one.
      const roleType = ['CATALOGER', 'ACQUISITIONS_OPERATOR', 'COURSE_RESERVES_MANAGER', 'SELECTOR'][serial % 4];
      return app.gql(`mutation($u: ID!, $in: RoleInput!) { assignRole(userId: $u, input: $in) { id } }`,
        { u: inUser, in: { roleType, scope, expiryDate: `2099-01-${String((serial % 28) + 1).padStart(2, '0')}` } }, token);
    },
    succeeded: (res) => !!res.data?.assignRole?.id,
  },
  'roleProfile.manage': {
    mutation: true,
    hasOutOfScope: true,
    run: (token, target) => {
      serial += 1;
      return app.gql(`mutation($in: RoleProfileInput!) { createRoleProfile(input: $in) { id } }`,
        { in: { name: `Matrix profile ${serial}`, roles: [libraryRole(target)] } }, token);
    },
    succeeded: (res) => !!res.data?.createRoleProfile?.id,
  },
  'apiKey.manage': {
    mutation: true,
    hasOutOfScope: true,
    run: (token, target) => {
      serial += 1;
      // A role the operator may hand on (it holds it), so only apiKey.manage and the scope decide.
      return app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`,
        { in: { name: `matrix key ${serial}`, roles: [{ roleType: 'GENERAL_SYSTEM_ADMINISTRATOR', scope: { type: 'LIBRARY', libraryId: libraryOf(target) } }] } }, token);
    },
    succeeded: (res) => typeof res.data?.createApiKey?.secret === 'string',
  },
  'report.namedUsers': {
    mutation: false,
    hasOutOfScope: false,
    run: (token) => app.gql(`{ namedUsersReport { count } }`, {}, token),
    succeeded: (res) => typeof res.data?.namedUsersReport?.count === 'number',
  },
  'report.staffLogin': {
    mutation: false,
    hasOutOfScope: false,
    run: (token) => app.gql(`{ staffLoginReport(from: "2020-01-01T00:00:00Z", to: "2099-01-01T00:00:00Z") { successfulCount } }`, {}, token),
    succeeded: (res) => typeof res.data?.staffLoginReport?.successfulCount === 'number',
  },
};

/** What a granted request should achieve on each target: the grant must cover the target (scope, record type). */
function expectedAllowed(action: Action, role: RoleTypeInfo, target: Target): boolean {
  const grant = grantsFor(action).find((g) => g.role === role.code);
  if (!grant || !role.staff) return false;
  if (target === 'in') return true;
  if (action === 'user.create') return !grant.patronsOnly;
  // Every other scoped action is held at MAIN; LAW is outside it.
  return action === 'user.read';
}

async function fingerprint(): Promise<string> {
  const [row] = await db().query(`SELECT
    (SELECT count(*) FROM app_user) AS users, (SELECT count(*) FROM role_assignment) AS roles,
    (SELECT count(*) FROM role_profile) AS profiles, (SELECT count(*) FROM role_profile_entry) AS entries,
    (SELECT count(*) FROM api_key) AS keys, (SELECT count(*) FROM history_entry) AS history, (SELECT count(*) FROM event_outbox) AS events`);
  return JSON.stringify(row);
}

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  other = await createInstitution(db(), 'ELSEWHERE');
  inUser = await createPerson(db(), inst, { recordType: 'STAFF', withPassword: false, roles: [['PATRON', 'INSTITUTION']] });
  otherUser = await createPerson(db(), other, { recordType: 'STAFF', withPassword: false });
  for (const role of ROLE_TYPES) {
    const identifier = `op_${role.code.toLowerCase()}`;
    await createPerson(db(), inst, { primaryIdentifier: identifier, roles: [[role.code, role.needsScope ? 'MAIN' : 'INSTITUTION']] });
    const res = await app.gql(`mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }`, { i: identifier, p: PASSWORD });
    tokens.set(role.code, res.data?.login?.token ?? null);
  }
});
afterAll(() => app.close());

const cases = ACTIONS.flatMap((action) => ROLE_TYPES.flatMap((role) =>
  (['in', 'out'] as Target[]).filter((t) => t === 'in' || CASES[action].hasOutOfScope).map((target) => ({ action, role, target }))));

test('the matrix covers every action of the permission table', () => {
  expect(Object.keys(CASES).sort()).toEqual([...ACTIONS].sort());
  // Printed so the figure can be quoted: actions x role types x targets.
  console.log(`permission matrix: ${cases.length} cases (${ACTIONS.length} actions x ${ROLE_TYPES.length} role types x in/out of scope)`);
});

test('a role that is not a staff role cannot log in, so it can do nothing', () => {
  for (const role of ROLE_TYPES) expect(tokens.get(role.code) === null).toBe(!role.staff);
});

test.each(cases.map((c) => [c.action, c.role.code, c.target, c] as const))('%s by %s on an %s-of-scope target', async (_a, _r, _t, c) => {
  const token = tokens.get(c.role.code);
  if (!token) return; // covered by the login test above
  const spec = CASES[c.action];
  const before = await fingerprint();
  const res = await spec.run(token, c.target);
  if (expectedAllowed(c.action, c.role, c.target)) {
    expect(res.errors).toBeUndefined();
    expect(spec.succeeded(res, c.target)).toBe(true);
  } else if (c.action === 'user.read' && c.target === 'out') {
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  } else {
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    if (spec.mutation) expect(await fingerprint()).toBe(before);
  }
});
