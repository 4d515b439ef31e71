import type { DataSource } from 'typeorm';
import { createInstitution, createPatron, createPerson, InstitutionFixture, loginOperators, PASSWORD } from '../support/fixtures';
import { givenOwnedItem } from '../support/owned-items';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 8, one test per reproduced finding (2, 3, 4, 8, 9a, 9c, 10), over
 * HTTP against the real server. Each test states the rule the finding broke;
 * every refused request is shown to have changed nothing.
 */

let app: TestApp;
let inst: InstitutionFixture;
let tokens: Record<string, string>;
const db = (): DataSource => app.db.dataSource;

/**
 * A profile giving an institution-scoped User Administrator, written in SQL
 * as an institution administrator would have left it. Each test gets its
 * own, so a test proves its own finding whatever the others did.
 */
async function givenInstitutionProfile(name: string): Promise<string> {
  const [{ id }] = await db().query(`INSERT INTO role_profile (institution_id, name) VALUES ($1, $2) RETURNING id`, [inst.id, name]);
  await db().query(`INSERT INTO role_profile_entry (institution_id, profile_id, role_type, scope_type) VALUES ($1, $2, 'USER_ADMINISTRATOR', 'INSTITUTION')`,
    [inst.id, id]);
  return id;
}

/** A role assignment rule giving `profile` to users of a job category, written in SQL. */
async function givenRule(jobCategory: string, profile: string): Promise<string> {
  const [{ id }] = await db().query(`INSERT INTO role_assignment_rule (institution_id, job_category, profile_id) VALUES ($1, $2, $3) RETURNING id`,
    [inst.id, jobCategory, profile]);
  return id;
}

const idOf = async (primaryIdentifier: string): Promise<string> =>
  (await db().query(`SELECT id FROM app_user WHERE primary_identifier = $1`, [primaryIdentifier]))[0].id;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await db().query(`INSERT INTO code_value (institution_id, kind, code, description) VALUES ($1, 'JOB_CATEGORY', 'ESCALATOR', 'Escalator')`, [inst.id]);
  // The attack of finding 2: a job category whose rule hands out an institution-scoped User Administrator.
  await givenRule('ESCALATOR', await givenInstitutionProfile('Institution administrators'));
  tokens = await loginOperators(app, inst, {
    ua_inst: ['USER_ADMINISTRATOR', 'INSTITUTION'],
    ua_law: ['USER_ADMINISTRATOR', 'LAW'],
    ua_maindesk: ['USER_ADMINISTRATOR', 'MAIN_DESK'],
    um_inst: ['USER_MANAGER', 'INSTITUTION'],
    um_main: ['USER_MANAGER', 'MAIN'],
    um_law: ['USER_MANAGER', 'LAW'],
    gsa_inst: ['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION'],
    gsa_law: ['GENERAL_SYSTEM_ADMINISTRATOR', 'LAW'],
    cataloger: ['CATALOGER', 'MAIN'],
  });
  // An institution User Administrator that also holds a role of its own to try to remove or switch off.
  await createPerson(db(), inst, { primaryIdentifier: 'ua_self', roles: [['USER_ADMINISTRATOR', 'INSTITUTION'], ['CATALOGER', 'MAIN']] });
  tokens.ua_self = await app.login('ua_self', PASSWORD);
  // A staff user the reports list, with contact data a report holder must not read.
  const quiet = await createPerson(db(), inst, { primaryIdentifier: 'quiet_staff', roles: [['CATALOGER', 'INSTITUTION']] });
  await db().query(`INSERT INTO user_email (institution_id, user_id, address, email_type, is_preferred) VALUES ($1, $2, 'quiet.secret@example.edu', 'WORK', true)`,
    [inst.id, quiet]);
});
afterAll(() => app.close());

// ---------------------------------------------------------------- requests

const ASSIGN_ROLE = `mutation($u: ID!, $in: RoleInput!) { assignRole(userId: $u, input: $in) { id roleType active } }`;
const REMOVE_ROLE = `mutation($r: ID!) { removeRole(roleId: $r) { removedRoleId } }`;
const SET_ROLE_ACTIVE = `mutation($r: ID!, $a: Boolean!) { setRoleActive(roleId: $r, active: $a) { id active } }`;
const ASSIGN_PROFILE = `mutation($u: ID!, $p: ID!) { assignRoleProfile(userId: $u, profileId: $p) { id } }`;
const CREATE_PROFILE = `mutation($in: RoleProfileInput!) { createRoleProfile(input: $in) { id name roles { roleType } } }`;
const UPDATE_PROFILE = `mutation($id: ID!, $in: RoleProfileInput!) { updateRoleProfile(id: $id, input: $in) { id name roles { roleType } } }`;
const DELETE_PROFILE = `mutation($id: ID!) { deleteRoleProfile(id: $id) }`;
const CREATE_RULE = `mutation($in: RoleAssignmentRuleInput!) { createRoleAssignmentRule(input: $in) { id } }`;
const DELETE_RULE = `mutation($id: ID!) { deleteRoleAssignmentRule(id: $id) }`;
const CREATE_USER = `mutation($in: CreateUserInput!) { createUser(input: $in) { user { id } } }`;
const UPDATE_USER = `mutation($id: ID!, $in: UpdateUserInput!) { updateUser(id: $id, input: $in) { id jobCategory } }`;
const CREATE_API_KEY = `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`;
const ADD_NOTE = `mutation($u: ID!, $in: NoteInput!) { addNote(userId: $u, input: $in) { id } }`;
const UPDATE_NOTE = `mutation($id: ID!, $in: NoteInput!) { updateNote(id: $id, input: $in) { id } }`;
const STAFF_LOGIN_REPORT = `query($from: DateTime!, $to: DateTime!) { staffLoginReport(from: $from, to: $to) { successfulCount } }`;
const NAMED_USERS_REPORT = `{ namedUsersReport { count } }`;
const PERMISSION_HISTORY = `query($first: Int, $after: String) { permissionHistory(first: $first, after: $after) {
  totalCount edges { cursor node { subjectType subjectId field oldValue newValue changedBy } } } }`;

const institution = () => ({ type: 'INSTITUTION' });
const library = (code: 'MAIN' | 'LAW') => ({ type: 'LIBRARY', libraryId: inst.libraries[code].id });
const desk = (code: 'MAIN' | 'LAW') => ({ type: 'CIRCULATION_DESK', deskId: inst.libraries[code].deskId });
const HOUR = 3600_000;
const aroundNow = () => ({ from: new Date(Date.now() - HOUR).toISOString(), to: new Date(Date.now() + HOUR).toISOString() });

// ---------------------------------------------------------------- "nothing changed"

const TABLES = ['app_user', 'role_assignment', 'role_profile', 'role_profile_entry', 'role_assignment_rule', 'history_entry', 'event_outbox', 'api_key', 'user_note'];

/** Row counts of every table a refused request in this file could have written to. */
async function tableCounts(): Promise<Record<string, number>> {
  const [row] = await db().query(`SELECT ${TABLES.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`);
  return row;
}

/**
 * Sends a request that must be refused with `code`; proves that no table's
 * row count changed and that the rows `watch` reads are as they were.
 * Returns the error.
 */
async function refused(operator: string, query: string, variables: Record<string, unknown>, code: string, watch: () => Promise<unknown> = async () => null) {
  const before = { counts: await tableCounts(), rows: await watch() };
  const res = await app.gql(query, variables, tokens[operator]);
  expect(res.errors?.[0]?.extensions?.code).toBe(code);
  expect(res.data ?? null).toBeNull();
  expect({ counts: await tableCounts(), rows: await watch() }).toEqual(before);
  return res.errors![0];
}

const allowed = async (operator: string, query: string, variables: Record<string, unknown> = {}): Promise<any> => {
  const res = await app.gql(query, variables, tokens[operator]);
  expect(res.errors).toBeUndefined();
  return res.data;
};

/** A profile as stored: its row and entries. */
const profileState = async (id: string) => ({
  profile: await db().query(`SELECT * FROM role_profile WHERE id = $1`, [id]),
  entries: await db().query(`SELECT * FROM role_profile_entry WHERE profile_id = $1 ORDER BY id`, [id]),
});
const rolesOf = (userId: string) => db().query(`SELECT * FROM role_assignment WHERE user_id = $1 ORDER BY id`, [userId]);
const userRow = async (id: string) => (await db().query(`SELECT * FROM app_user WHERE id = $1`, [id]))[0];

// ---------------------------------------------------------------- finding 2: scope escape through profiles and rules

test('Issue 8 finding 2: a Law-scoped User Administrator cannot create a profile with an institution-scoped entry', async () => {
  const error = await refused('ua_law', CREATE_PROFILE, { in: { name: 'Escape to institution', roles: [{ roleType: 'USER_ADMINISTRATOR', scope: institution() }] } }, 'FORBIDDEN');
  expect(error.extensions).toMatchObject({ field: 'input.roles[0]' });
});

test('Issue 8 finding 2: a Law-scoped User Administrator cannot create a profile with a Main-scoped entry', async () => {
  await refused('ua_law', CREATE_PROFILE, { in: { name: 'Escape to Main', roles: [
    { roleType: 'CATALOGER', scope: library('LAW') },
    { roleType: 'CATALOGER', scope: library('MAIN') },
  ] } }, 'FORBIDDEN');
});

test('Issue 8 finding 2: a Law-scoped User Administrator cannot overwrite a profile that has an institution-scoped entry', async () => {
  const instProfile = await givenInstitutionProfile('To overwrite');
  await refused('ua_law', UPDATE_PROFILE, { id: instProfile, in: { name: 'Harmless now', roles: [{ roleType: 'CATALOGER', scope: library('LAW') }] } },
    'FORBIDDEN', () => profileState(instProfile));
});

test('Issue 8 finding 2: a Law-scoped User Administrator cannot delete a profile that has an institution-scoped entry', async () => {
  const instProfile = await givenInstitutionProfile('To delete');
  await refused('ua_law', DELETE_PROFILE, { id: instProfile }, 'FORBIDDEN', () => profileState(instProfile));
});

test('Issue 8 finding 2: a Law-scoped User Administrator cannot delete a profile an institution User Administrator created with an institution-scoped entry', async () => {
  const { createRoleProfile: profile } = await allowed('ua_inst', CREATE_PROFILE,
    { in: { name: 'Institution catalogers', roles: [{ roleType: 'CATALOGER', scope: institution() }] } });
  await refused('ua_law', DELETE_PROFILE, { id: profile.id }, 'FORBIDDEN', () => profileState(profile.id));
  await refused('ua_law', UPDATE_PROFILE, { id: profile.id, in: { name: 'Institution catalogers', roles: [] } }, 'FORBIDDEN', () => profileState(profile.id));
});

test('Issue 8 finding 2: a Law-scoped User Administrator cannot bind an institution-scoped profile to a rule', async () => {
  const instProfile = await givenInstitutionProfile('To bind');
  await refused('ua_law', CREATE_RULE, { in: { jobCategory: 'LIBRARIAN', profileId: instProfile } }, 'FORBIDDEN');
});

test('Issue 8 finding 2: a Law-scoped User Administrator cannot delete a rule bound to an institution-scoped profile', async () => {
  const instRule = await givenRule('LIBRARIAN', await givenInstitutionProfile('Bound'));
  await refused('ua_law', DELETE_RULE, { id: instRule }, 'FORBIDDEN',
    () => db().query(`SELECT * FROM role_assignment_rule WHERE id = $1`, [instRule]));
});

test('Issue 8 finding 2: a Law-scoped User Administrator cannot assign an institution-scoped profile to a user', async () => {
  const instProfile = await givenInstitutionProfile('To assign');
  const patron = await createPatron(db(), inst);
  await refused('ua_law', ASSIGN_PROFILE, { u: patron, p: instProfile }, 'FORBIDDEN', () => rolesOf(patron));
});

test('Issue 8 finding 2: a Law-scoped User Administrator cannot create a user in a job category whose rule gives an institution User Administrator', async () => {
  await refused('ua_law', CREATE_USER, { in: {
    recordType: 'STAFF', primaryIdentifier: 'escalated', firstName: 'Es', lastName: 'Calated', jobCategory: 'ESCALATOR',
    password: 'escalation secret 1', emails: [{ address: 'escalated@example.edu', type: 'WORK' }],
  } }, 'FORBIDDEN');
  expect(await db().query(`SELECT id FROM app_user WHERE primary_identifier = 'escalated'`)).toEqual([]);
  await expect(app.login('escalated', 'escalation secret 1')).rejects.toThrow();
});

test('Issue 8 finding 2: a User Manager cannot trigger a rule giving an institution User Administrator by changing a patron\'s job category', async () => {
  const patron = await createPatron(db(), inst);
  await refused('um_inst', UPDATE_USER, { id: patron, in: { jobCategory: 'ESCALATOR' } }, 'FORBIDDEN',
    async () => ({ user: await userRow(patron), roles: await rolesOf(patron) }));
});

test('Issue 8 finding 2 (allowed): a Law-scoped User Administrator creates, updates and deletes a profile whose entries are all in Law', async () => {
  const { createRoleProfile: profile } = await allowed('ua_law', CREATE_PROFILE, { in: { name: 'Law circulation', roles: [
    { roleType: 'CIRCULATION_DESK_OPERATOR', scope: desk('LAW') },
    { roleType: 'CATALOGER', scope: library('LAW') },
  ] } });
  expect(profile.roles.map((r: { roleType: string }) => r.roleType).sort()).toEqual(['CATALOGER', 'CIRCULATION_DESK_OPERATOR']);
  const { updateRoleProfile: updated } = await allowed('ua_law', UPDATE_PROFILE,
    { id: profile.id, in: { name: 'Law circulation', roles: [{ roleType: 'CIRCULATION_DESK_MANAGER', scope: desk('LAW') }] } });
  expect(updated.roles).toEqual([{ roleType: 'CIRCULATION_DESK_MANAGER' }]);
  expect((await allowed('ua_law', DELETE_PROFILE, { id: profile.id })).deleteRoleProfile).toBe(profile.id);
  expect(await profileState(profile.id)).toEqual({ profile: [], entries: [] });
});

// ---------------------------------------------------------------- finding 3: scope widening

test('Issue 8 finding 3: a User Administrator scoped to the Main desk cannot assign a role scoped to the whole Main library', async () => {
  const patron = await createPatron(db(), inst);
  await refused('ua_maindesk', ASSIGN_ROLE, { u: patron, in: { roleType: 'CATALOGER', scope: library('MAIN') } }, 'FORBIDDEN', () => rolesOf(patron));
});

test('Issue 8 finding 3: a User Administrator scoped to the Main desk cannot assign a role at the Law desk', async () => {
  const patron = await createPatron(db(), inst);
  await refused('ua_maindesk', ASSIGN_ROLE, { u: patron, in: { roleType: 'CIRCULATION_DESK_OPERATOR', scope: desk('LAW') } }, 'FORBIDDEN', () => rolesOf(patron));
});

test('Issue 8 finding 3 (allowed): a User Administrator scoped to the Main desk assigns a role at the Main desk to a patron', async () => {
  const patron = await createPatron(db(), inst);
  const data = await allowed('ua_maindesk', ASSIGN_ROLE, { u: patron, in: { roleType: 'CIRCULATION_DESK_OPERATOR', scope: desk('MAIN') } });
  expect(data.assignRole).toMatchObject({ roleType: 'CIRCULATION_DESK_OPERATOR', active: true });
  expect((await rolesOf(patron)).map((r: { role_type: string }) => r.role_type).sort()).toEqual(['CIRCULATION_DESK_OPERATOR', 'PATRON']);
});

test('Issue 8 finding 3: an operator, even an institution User Administrator, cannot assign a role to itself', async () => {
  const self = await idOf('ua_self');
  await refused('ua_self', ASSIGN_ROLE, { u: self, in: { roleType: 'CATALOGER', scope: library('LAW') } }, 'FORBIDDEN', () => rolesOf(self));
});

test('Issue 8 finding 3: an operator, even an institution User Administrator, cannot remove its own role', async () => {
  const self = await idOf('ua_self');
  const [own] = await db().query(`SELECT id FROM role_assignment WHERE user_id = $1 AND role_type = 'CATALOGER'`, [self]);
  await refused('ua_self', REMOVE_ROLE, { r: own.id }, 'FORBIDDEN', () => rolesOf(self));
});

test('Issue 8 finding 3: an operator, even an institution User Administrator, cannot switch its own role on or off', async () => {
  const self = await idOf('ua_self');
  const [own] = await db().query(`SELECT id FROM role_assignment WHERE user_id = $1 AND role_type = 'CATALOGER'`, [self]);
  await refused('ua_self', SET_ROLE_ACTIVE, { r: own.id, a: false }, 'FORBIDDEN', () => rolesOf(self));
});

test('Issue 8 finding 3: a Law-scoped General System Administrator is refused the institution-wide staff login and named users reports', async () => {
  const staffLogin = await app.gql(STAFF_LOGIN_REPORT, aroundNow(), tokens.gsa_law);
  expect(staffLogin.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(staffLogin.data).toBeNull();
  const namedUsers = await app.gql(NAMED_USERS_REPORT, {}, tokens.gsa_law);
  expect(namedUsers.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(namedUsers.data).toBeNull();
});

test('Issue 8 finding 3 (allowed): an institution-scoped General System Administrator reads the staff login and named users reports', async () => {
  expect((await allowed('gsa_inst', STAFF_LOGIN_REPORT, aroundNow())).staffLoginReport.successfulCount).toBeGreaterThan(0);
  expect((await allowed('gsa_inst', NAMED_USERS_REPORT)).namedUsersReport.count).toBeGreaterThan(0);
});

test('Issue 8 finding 3: a Law-scoped User Administrator cannot give itself General System Administrator at Law', async () => {
  const self = await idOf('ua_law');
  await refused('ua_law', ASSIGN_ROLE, { u: self, in: { roleType: 'GENERAL_SYSTEM_ADMINISTRATOR', scope: library('LAW') } }, 'FORBIDDEN', () => rolesOf(self));
  expect((await app.gql(STAFF_LOGIN_REPORT, aroundNow(), tokens.ua_law)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
});

// ---------------------------------------------------------------- finding 4: user data without user.read

type GqlError = NonNullable<GraphQLResponse['errors']>[number] & { path?: (string | number)[] };

/** Every error is FORBIDDEN on a path ending in `field`; there is at least one. */
function expectForbiddenAt(res: GraphQLResponse, field: string) {
  const errors = (res.errors ?? []) as GqlError[];
  expect(errors.length).toBeGreaterThan(0);
  for (const error of errors) {
    expect(error.extensions?.code).toBe('FORBIDDEN');
    expect(error.path?.[error.path.length - 1]).toBe(field);
  }
}

test('Issue 8 finding 4 (allowed): a report holder without user.read reads who the reported users are', async () => {
  const data = await allowed('gsa_inst', `{ namedUsersReport { users { user { id primaryIdentifier displayName } } } }`);
  expect(data.namedUsersReport.users.map((u: { user: { primaryIdentifier: string } }) => u.user.primaryIdentifier)).toContain('quiet_staff');
});

test('Issue 8 finding 4: a report holder without user.read cannot read the emails of the users the named users report lists', async () => {
  const res = await app.gql(`{ namedUsersReport { users { user { id primaryIdentifier displayName emails { address } } } } }`, {}, tokens.gsa_inst);
  expectForbiddenAt(res, 'emails');
  expect(JSON.stringify(res)).not.toContain('quiet.secret@example.edu');
  expect((res.errors as GqlError[]).some((e) => e.path?.join('.').match(/^namedUsersReport\.users\.\d+\.user\.emails$/))).toBe(true);
});

test('Issue 8 finding 4: a report holder without user.read cannot read the fine summary of a reported user', async () => {
  expectForbiddenAt(await app.gql(`{ namedUsersReport { users { user { id fineSummary { activeBalance } } } } }`, {}, tokens.gsa_inst), 'fineSummary');
});

test('Issue 8 finding 4: a report holder without user.read cannot read the history of a reported user', async () => {
  expectForbiddenAt(await app.gql(`{ namedUsersReport { users { user { id history { totalCount } } } } }`, {}, tokens.gsa_inst), 'history');
});

test('Issue 8 finding 4: a report holder without user.read cannot read whom a reported user is a proxy for', async () => {
  expectForbiddenAt(await app.gql(`{ namedUsersReport { users { user { id proxyFor { id } } } } }`, {}, tokens.gsa_inst), 'proxyFor');
});

test('Issue 8 finding 4: a report holder without user.read cannot read the emails of the staff the staff login report lists', async () => {
  const res = await app.gql(`query($from: DateTime!, $to: DateTime!, $since: DateTime) {
    staffLoginReport(from: $from, to: $to, noLoginSince: $since) { staffWithoutLoginSince { primaryIdentifier emails { address } } } }`,
  { ...aroundNow(), since: new Date(Date.now() + HOUR).toISOString() }, tokens.gsa_inst);
  expectForbiddenAt(res, 'emails');
  expect(JSON.stringify(res)).not.toContain('quiet.secret@example.edu');
});

test('Issue 8 finding 4 (allowed): an operator without user.read reads its own record, roles and identifiers', async () => {
  const data = await allowed('cataloger', `{ me { id displayName roles { roleType } identifiers { value } } }`);
  expect(data.me.id).toBe(await idOf('cataloger'));
  expect(data.me.roles).toEqual([{ roleType: 'CATALOGER' }]);
});

test('Issue 8 finding 4: an operator without user.read cannot read the blocks on its own record', async () => {
  const res = await app.gql(`{ me { id blocks { id } } }`, {}, tokens.cataloger);
  expectForbiddenAt(res, 'blocks');
  expect((res.errors as GqlError[])[0].path).toEqual(['me', 'blocks']);
});

test('Issue 8 finding 4: an operator without user.read cannot read its own history', async () => {
  const res = await app.gql(`{ me { id history { totalCount } } }`, {}, tokens.cataloger);
  expectForbiddenAt(res, 'history');
  expect((res.errors as GqlError[])[0].path).toEqual(['me', 'history']);
});

// ---------------------------------------------------------------- finding 8: permission changes are audited

const historyOfSubject = (id: string) => db().query(
  `SELECT subject_type, user_id, field, old_value, new_value, changed_by FROM history_entry WHERE subject_id = $1 ORDER BY id`, [id]);
const eventsOf = (id: string) => db().query(`SELECT event_type, aggregate_type, actor FROM event_outbox WHERE aggregate_id = $1 ORDER BY id`, [id]);
const LAW_CATALOGER = () => `CATALOGER@LIBRARY:${inst.libraries.LAW.id}`;
const LAW_DESK_ACQUISITIONS = () => `ACQUISITIONS_OPERATOR@CIRCULATION_DESK:${inst.libraries.LAW.deskId}`;

async function auditedProfile(name: string): Promise<string> {
  const data = await allowed('ua_inst', CREATE_PROFILE, { in: { name, description: 'first', roles: [{ roleType: 'CATALOGER', scope: library('LAW') }] } });
  return data.createRoleProfile.id;
}

test('Issue 8 finding 8: creating a role profile writes its history and one ROLE_PROFILE_CREATED event', async () => {
  const id = await auditedProfile('Audited create');
  const row = { subject_type: 'ROLE_PROFILE', user_id: null, old_value: null, changed_by: 'ua_inst' };
  expect(await historyOfSubject(id)).toEqual([
    { ...row, field: 'name', new_value: 'Audited create' },
    { ...row, field: 'description', new_value: 'first' },
    { ...row, field: 'roles', new_value: LAW_CATALOGER() },
  ]);
  expect(await eventsOf(id)).toEqual([{ event_type: 'ROLE_PROFILE_CREATED', aggregate_type: 'ROLE_PROFILE', actor: 'ua_inst' }]);
});

/** The history rows written after `max` (the greatest history id before a change). */
const historySince = (max: string | null) => db().query(
  `SELECT subject_type, subject_id, user_id, field, old_value, new_value, changed_by FROM history_entry WHERE id > $1 ORDER BY id`, [max ?? 0]);
const lastHistoryId = async (): Promise<string | null> => (await db().query(`SELECT max(id) AS max FROM history_entry`))[0].max;

test('Issue 8 finding 8: updating a role profile\'s roles records the old and new roles and one ROLE_PROFILE_UPDATED event', async () => {
  const id = await auditedProfile('Audited roles');
  const max = await lastHistoryId();
  await allowed('ua_inst', UPDATE_PROFILE, { id, in: { name: 'Audited roles', description: 'first', roles: [
    { roleType: 'CATALOGER', scope: library('LAW') }, { roleType: 'ACQUISITIONS_OPERATOR', scope: desk('LAW') },
  ] } });
  expect(await historySince(max)).toEqual([
    { subject_type: 'ROLE_PROFILE', subject_id: id, user_id: null, field: 'roles', old_value: LAW_CATALOGER(),
      new_value: `${LAW_DESK_ACQUISITIONS()}, ${LAW_CATALOGER()}`, changed_by: 'ua_inst' },
  ]);
  expect((await eventsOf(id)).map((e: { event_type: string }) => e.event_type)).toEqual(['ROLE_PROFILE_CREATED', 'ROLE_PROFILE_UPDATED']);
});

test('Issue 8 finding 8: renaming a role profile and changing its description records the old and new values and one ROLE_PROFILE_UPDATED event', async () => {
  const id = await auditedProfile('Audited rename');
  const max = await lastHistoryId();
  await allowed('ua_inst', UPDATE_PROFILE, { id, in: { name: 'Audited rename 2', description: 'second', roles: [{ roleType: 'CATALOGER', scope: library('LAW') }] } });
  const row = { subject_type: 'ROLE_PROFILE', subject_id: id, user_id: null, changed_by: 'ua_inst' };
  expect(await historySince(max)).toEqual([
    { ...row, field: 'name', old_value: 'Audited rename', new_value: 'Audited rename 2' },
    { ...row, field: 'description', old_value: 'first', new_value: 'second' },
  ]);
  expect((await eventsOf(id)).map((e: { event_type: string }) => e.event_type)).toEqual(['ROLE_PROFILE_CREATED', 'ROLE_PROFILE_UPDATED']);
});

test('Issue 8 finding 8: deleting a role profile records what it gave and one ROLE_PROFILE_DELETED event', async () => {
  const id = await auditedProfile('Audited delete');
  await allowed('ua_inst', DELETE_PROFILE, { id });
  expect((await historyOfSubject(id)).at(-1)).toEqual({
    subject_type: 'ROLE_PROFILE', user_id: null, field: 'profile', old_value: `Audited delete: ${LAW_CATALOGER()}`, new_value: null, changed_by: 'ua_inst',
  });
  expect(await eventsOf(id)).toEqual([
    { event_type: 'ROLE_PROFILE_CREATED', aggregate_type: 'ROLE_PROFILE', actor: 'ua_inst' },
    { event_type: 'ROLE_PROFILE_DELETED', aggregate_type: 'ROLE_PROFILE', actor: 'ua_inst' },
  ]);
});

test('Issue 8 finding 8: creating and deleting a role assignment rule each write history and one event', async () => {
  const profile = await auditedProfile('Audited rule target');
  const counts = await tableCounts();
  const { createRoleAssignmentRule: rule } = await allowed('ua_inst', CREATE_RULE, { in: { userGroup: 'STAFF', profileId: profile } });
  expect(await tableCounts()).toMatchObject({ history_entry: counts.history_entry + 1, event_outbox: counts.event_outbox + 1 });
  await allowed('ua_inst', DELETE_RULE, { id: rule.id });
  const described = 'jobCategory=* userGroup=STAFF -> Audited rule target';
  const row = { subject_type: 'ROLE_ASSIGNMENT_RULE', user_id: null, field: 'rule', changed_by: 'ua_inst' };
  expect(await historyOfSubject(rule.id)).toEqual([
    { ...row, old_value: null, new_value: described },
    { ...row, old_value: described, new_value: null },
  ]);
  expect(await eventsOf(rule.id)).toEqual([
    { event_type: 'ROLE_ASSIGNMENT_RULE_CREATED', aggregate_type: 'ROLE_ASSIGNMENT_RULE', actor: 'ua_inst' },
    { event_type: 'ROLE_ASSIGNMENT_RULE_DELETED', aggregate_type: 'ROLE_ASSIGNMENT_RULE', actor: 'ua_inst' },
  ]);
});

test('Issue 8 finding 8: permissionHistory lists profile and rule changes newest first, page by page', async () => {
  const profile = await auditedProfile('Listed');
  const { createRoleAssignmentRule: rule } = await allowed('ua_inst', CREATE_RULE, { in: { userGroup: 'UNDERGRAD', profileId: profile } });
  const first = (await allowed('ua_inst', PERMISSION_HISTORY, { first: 4 })).permissionHistory;
  const node = (subjectType: string, subjectId: string, field: string, newValue: string) =>
    ({ subjectType, subjectId, field, oldValue: null, newValue, changedBy: 'ua_inst' });
  expect(first.edges.map((e: { node: unknown }) => e.node)).toEqual([
    node('ROLE_ASSIGNMENT_RULE', rule.id, 'rule', 'jobCategory=* userGroup=UNDERGRAD -> Listed'),
    node('ROLE_PROFILE', profile, 'roles', LAW_CATALOGER()),
    node('ROLE_PROFILE', profile, 'description', 'first'),
    node('ROLE_PROFILE', profile, 'name', 'Listed'),
  ]);
  expect(first.totalCount).toBe((await db().query(`SELECT count(*)::int AS n FROM history_entry WHERE subject_type <> 'USER'`))[0].n);
  const next = (await allowed('ua_inst', PERMISSION_HISTORY, { first: 2, after: first.edges[1].cursor })).permissionHistory;
  expect(next.edges.map((e: { node: { field: string } }) => e.node.field)).toEqual(['description', 'name']);
});

test('Issue 8 finding 8: a refused profile or rule change writes no history and no event', async () => {
  const instProfile = await givenInstitutionProfile('Refused changes');
  const instRule = await givenRule('LIBRARIAN', instProfile);
  await refused('um_inst', CREATE_PROFILE, { in: { name: 'Not allowed', roles: [] } }, 'FORBIDDEN');
  await refused('ua_law', UPDATE_PROFILE, { id: instProfile, in: { name: 'Renamed', roles: [] } }, 'FORBIDDEN');
  await refused('ua_law', DELETE_RULE, { id: instRule }, 'FORBIDDEN');
  expect(await historyOfSubject(instProfile)).toEqual([]);
  expect(await eventsOf(instRule)).toEqual([]);
});

// ---------------------------------------------------------------- finding 9a: library-owned notes do not touch the user

const updatedOf = async (id: string) => (await db().query(`SELECT updated_by, updated_at FROM app_user WHERE id = $1`, [id]))[0];

test('Issue 8 finding 9a: a Main operator adding a Main-owned note leaves the patron\'s updatedBy and updatedAt as they were', async () => {
  const patron = await createPatron(db(), inst);
  const before = await updatedOf(patron);
  await allowed('um_main', ADD_NOTE, { u: patron, in: { text: 'Main only', ownerLibraryId: inst.libraries.MAIN.id } });
  expect(await updatedOf(patron)).toEqual(before);
  const seen = await allowed('um_law', `query($id: ID!) { user(id: $id) { updatedBy updatedAt } }`, { id: patron });
  expect(seen.user).toEqual({ updatedBy: 'test', updatedAt: before.updated_at.toISOString() });
});

test('Issue 8 finding 9a: a Main operator changing a Main-owned note leaves the patron\'s updatedBy and updatedAt as they were', async () => {
  const patron = await createPatron(db(), inst);
  const note = await givenOwnedItem(db(), inst, 'user_note', patron, 'MAIN', { text: 'Main only', created_by: 'test' });
  const before = await updatedOf(patron);
  await allowed('um_main', UPDATE_NOTE, { id: note, in: { text: 'Main only, changed', ownerLibraryId: inst.libraries.MAIN.id } });
  expect(await updatedOf(patron)).toEqual(before);
});

test('Issue 8 finding 9a (allowed): an institution-owned note still updates the patron\'s updatedBy and updatedAt', async () => {
  const patron = await createPatron(db(), inst);
  const before = await updatedOf(patron);
  await allowed('um_inst', ADD_NOTE, { u: patron, in: { text: 'For everyone' } });
  const after = await updatedOf(patron);
  expect(after.updated_by).toBe('um_inst');
  expect(after.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());
});

// ---------------------------------------------------------------- finding 9c: the roleType filter counts roles in force

const CATALOGERS = `query($id: String!) { users(first: 100, filter: { roleType: "CATALOGER", identifier: $id }) { totalCount edges { node { id } } } }`;
const catalogersNamed = async (identifier: string) => (await allowed('um_inst', CATALOGERS, { id: identifier })).users;

test('Issue 8 finding 9c: the roleType filter leaves out a user whose only role of that type is past its expiry date', async () => {
  await createPerson(db(), inst, { primaryIdentifier: 'cat_in_force', roles: [['CATALOGER', 'MAIN']] });
  const expired = await createPerson(db(), inst, { primaryIdentifier: 'cat_expired', roles: [['CATALOGER', 'MAIN']] });
  await db().query(`UPDATE role_assignment SET expiry_date = '2020-01-01' WHERE user_id = $1`, [expired]);
  expect((await catalogersNamed('cat_in_force')).totalCount).toBe(1);
  expect(await catalogersNamed('cat_expired')).toEqual({ totalCount: 0, edges: [] });
});

test('Issue 8 finding 9c: the roleType filter leaves out a user whose only role of that type is inactive', async () => {
  const inactive = await createPerson(db(), inst, { primaryIdentifier: 'cat_inactive', roles: [['CATALOGER', 'MAIN']] });
  await db().query(`UPDATE role_assignment SET is_active = false WHERE user_id = $1`, [inactive]);
  expect(await catalogersNamed('cat_inactive')).toEqual({ totalCount: 0, edges: [] });
});

// ---------------------------------------------------------------- finding 10: role expiry

test('Issue 8 finding 10: assigning a role with an expiry date in the past is BAD_USER_INPUT naming input.expiryDate', async () => {
  const patron = await createPatron(db(), inst);
  const error = await refused('ua_inst', ASSIGN_ROLE, { u: patron, in: { roleType: 'CATALOGER', scope: library('MAIN'), expiryDate: '2020-01-01' } },
    'BAD_USER_INPUT', () => rolesOf(patron));
  expect(error.extensions).toMatchObject({ field: 'input.expiryDate' });
});

test('Issue 8 finding 10: a role whose expiry date has passed is reported inactive', async () => {
  const staff = await createPerson(db(), inst, { roles: [['CATALOGER', 'MAIN']] });
  await db().query(`UPDATE role_assignment SET expiry_date = '2020-01-01' WHERE user_id = $1`, [staff]);
  const data = await allowed('um_inst', `query($id: ID!) { user(id: $id) { roles { roleType active expiryDate } } }`, { id: staff });
  expect(data.user.roles).toEqual([{ roleType: 'CATALOGER', active: false, expiryDate: '2020-01-01' }]);
});

test('Issue 8 finding 10: a role profile entry with an expiry date in the past is BAD_USER_INPUT', async () => {
  const error = await refused('ua_inst', CREATE_PROFILE, { in: { name: 'Lapsed', roles: [{ roleType: 'CATALOGER', scope: library('MAIN'), expiryDate: '2020-01-01' }] } },
    'BAD_USER_INPUT');
  expect(error.extensions).toMatchObject({ field: 'input.roles[0].expiryDate' });
});

test('Issue 8 finding 10: an API key role with an expiry date in the past is BAD_USER_INPUT', async () => {
  const error = await refused('ua_inst', CREATE_API_KEY, { in: { name: 'Lapsed key', roles: [{ roleType: 'CATALOGER', scope: library('MAIN'), expiryDate: '2020-01-01' }] } },
    'BAD_USER_INPUT');
  expect(error.extensions).toMatchObject({ field: 'input.roles[0].expiryDate' });
});
