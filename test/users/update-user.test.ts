import type { DataSource } from 'typeorm';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD, PersonSpec, userTableCounts } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';

/**
 * Specification of `updateUser` (issue 4): R1.4 general fields with the same
 * rules as createUser, R3.3 external users, R4.2 who may edit whom, R4.3
 * assignment rules on save, R9.1 history, R11.2/R11.3 actor and event.
 * Exercised over HTTP against the real server.
 */

let app: TestApp;
let inst: InstitutionFixture;
let manager: string;
let deskOperator: string;
const db = (): DataSource => app.db.dataSource;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await createPerson(db(), inst, { primaryIdentifier: 'um_update', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await createPerson(db(), inst, { primaryIdentifier: 'ua_update', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  await createPerson(db(), inst, { primaryIdentifier: 'cdo_update', roles: [['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']] });
  [manager, deskOperator] = await Promise.all([app.login('um_update', PASSWORD), app.login('cdo_update', PASSWORD)]);
});
afterAll(() => app.close());

const UPDATE = `
  mutation($id: ID!, $input: UpdateUserInput!) {
    updateUser(id: $id, input: $input) {
      id recordType accountType firstName middleName lastName preferredFirstName displayName title userGroup jobCategory campus
      gender websiteUrl preferredLanguage expiryDate purgeDate lastPatronActivityDate resourceSharingLibraries patronLetters
      catalogerLevel hasPassword forcePasswordChange mfaEnabled restricted keptFields updatedBy updatedAt status statusDate
      roles { roleType }
    }
  }`;

const update = (id: string, input: Record<string, unknown>, token = manager): Promise<GraphQLResponse> => app.gql(UPDATE, { id, input }, token);

/** Sends an update that must succeed and returns the user. */
async function updated(id: string, input: Record<string, unknown>, token = manager) {
  const res = await update(id, input, token);
  expect(res.errors).toBeUndefined();
  return res.data.updateUser;
}

const userRow = async (id: string) => (await db().query(`SELECT * FROM app_user WHERE id = $1`, [id]))[0];

/** Sends an update that must be refused; proves that neither the user nor any table changed and returns the error. */
async function refused(id: string, input: Record<string, unknown>, token = manager) {
  const [counts, row] = [await userTableCounts(db()), await userRow(id)];
  const res = await update(id, input, token);
  expect(res.data?.updateUser ?? null).toBeNull();
  expect(res.errors).toHaveLength(1);
  expect(await userTableCounts(db())).toEqual(counts);
  expect(await userRow(id)).toEqual(row);
  return res.errors![0];
}

const historyOf = (userId: string): Promise<{ field: string; old_value: string | null; new_value: string | null; changed_by: string }[]> =>
  db().query(`SELECT field, old_value, new_value, changed_by FROM history_entry WHERE user_id = $1 ORDER BY id`, [userId]);

const eventsOf = (userId: string): Promise<{ event_type: string; payload: any; actor: string }[]> =>
  db().query(`SELECT event_type, payload, actor FROM event_outbox WHERE aggregate_id = $1 ORDER BY id`, [userId]);

const patron = (spec: PersonSpec = {}) => createPerson(db(), inst, { recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']], ...spec });

// ---------------------------------------------------------------- fields

test('R1.4 updateUser changes the given fields and leaves the others as they are', async () => {
  const id = await patron({ firstName: 'Ada', lastName: 'Byron' });
  await updated(id, { title: 'Dr', userGroup: 'UNDERGRAD' });
  const user = await updated(id, { campus: 'NORTH', resourceSharingLibraries: ['MAIN', 'LAW'], gender: 'FEMALE', keptFields: ['USER_GROUP', 'TITLE'] });
  expect(user).toMatchObject({
    firstName: 'Ada', lastName: 'Byron', title: 'Dr', userGroup: 'UNDERGRAD', campus: 'NORTH', gender: 'FEMALE',
    resourceSharingLibraries: ['MAIN', 'LAW'], keptFields: ['TITLE', 'USER_GROUP'],
  });
});

test('R1.4 an explicit null clears a field that may be empty', async () => {
  const id = await patron();
  await updated(id, { title: 'Prof', expiryDate: '2030-01-31', patronLetters: ['OVERDUE'] });
  const user = await updated(id, { title: null, expiryDate: null, patronLetters: null });
  expect(user).toMatchObject({ title: null, expiryDate: null, patronLetters: [] });
});

test('R1.4 updated by and updated date name the operator and the time of the change', async () => {
  const id = await patron();
  const before = Date.now();
  const user = await updated(id, { jobDescription: 'Reads a lot' });
  expect(user.updatedBy).toBe('um_update');
  expect(new Date(user.updatedAt).getTime()).toBeGreaterThanOrEqual(before - 1000);
});

test('R1.5 updateUser leaves the status and the status date alone', async () => {
  const id = await patron();
  const row = await userRow(id);
  const user = await updated(id, { title: 'Mx' });
  expect(user.status).toBe('ACTIVE');
  expect(new Date(user.statusDate).getTime()).toBe(new Date(row.status_date).getTime());
});

test('an update that changes nothing writes nothing', async () => {
  const id = await patron({ firstName: 'Same', lastName: 'Name' });
  const [counts, row] = [await userTableCounts(db()), await userRow(id)];
  await updated(id, { firstName: 'Same', lastName: ' Name ', title: null });
  expect(await userTableCounts(db())).toEqual(counts);
  expect(await userRow(id)).toEqual(row);
});

// ---------------------------------------------------------------- validation

test('R1.3 the first name cannot be cleared: BAD_USER_INPUT naming input.firstName', async () => {
  const id = await patron();
  expect((await refused(id, { firstName: '  ' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.firstName' });
});

test('R1.3 the last name cannot be cleared: BAD_USER_INPUT naming input.lastName', async () => {
  const id = await patron();
  expect((await refused(id, { lastName: null })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.lastName' });
});

test('R1.4 a user group must be configured', async () => {
  const id = await patron();
  expect((await refused(id, { userGroup: 'ALUMNI' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.userGroup' });
});

test('R1.4 a job category must be configured', async () => {
  const id = await patron();
  expect((await refused(id, { jobCategory: 'WIZARD' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.jobCategory' });
});

test.each(['resourceSharingLibraries', 'purchaseRequestLibraries'])('Issue 9 finding 14: %s takes only library codes of the institution, naming the unknown one', async (field) => {
  const id = await patron();
  const error = await refused(id, { [field]: ['LAW', 'ATLANTIS'] });
  expect(error).toMatchObject({ message: 'Library ATLANTIS is not a library of your institution', extensions: { code: 'BAD_USER_INPUT', field: `input.${field}[1]` } });
});

test('Issue 9 finding 14: an external user keeps to library codes of the institution too', async () => {
  const id = await patron({ accountType: 'EXTERNAL' });
  const error = await refused(id, { resourceSharingLibraries: ['MAIN', ' main '] });
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.resourceSharingLibraries[1]' });
});

test('R1.4 a web site must be an http(s) URL', async () => {
  const id = await patron();
  expect((await refused(id, { websiteUrl: 'ftp://example.edu' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.websiteUrl' });
});

test('R1.1 a contact record gets no user group', async () => {
  const id = await createPerson(db(), inst, { recordType: 'CONTACT', withPassword: false });
  expect((await refused(id, { userGroup: 'UNDERGRAD' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.userGroup' });
});

test('R1.1 a patron never becomes a contact', async () => {
  const id = await patron();
  expect((await refused(id, { recordType: 'CONTACT' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.recordType' });
});

test('R1.1 a contact never becomes a patron', async () => {
  const id = await createPerson(db(), inst, { recordType: 'CONTACT', withPassword: false });
  expect((await refused(id, { recordType: 'PUBLIC' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.recordType' });
});

test('R1.1 a patron becomes staff and back', async () => {
  const id = await patron();
  expect((await updated(id, { recordType: 'STAFF' })).recordType).toBe('STAFF');
  expect((await updated(id, { recordType: 'PUBLIC' })).recordType).toBe('PUBLIC');
});

test('a flag cannot be cleared: null is BAD_USER_INPUT naming it', async () => {
  const id = await patron();
  expect((await refused(id, { restricted: null })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.restricted' });
});

test('an unknown user is NOT_FOUND and a malformed id is BAD_USER_INPUT naming id', async () => {
  const missing = await update('00000000-0000-4000-8000-000000000000', { title: 'Dr' });
  expect(missing.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  const malformed = await update('not-a-uuid', { title: 'Dr' });
  expect(malformed.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
});

test('a user of another institution is NOT_FOUND and stays unchanged', async () => {
  const other = await createInstitution(db(), 'OTHER_UPD');
  const id = await createPerson(db(), other, { recordType: 'PUBLIC' });
  expect((await refused(id, { title: 'Dr' })).extensions?.code).toBe('NOT_FOUND');
});

// ---------------------------------------------------------------- R3.3 external users

test('R3.3 an external user: changing a field the SIS owns is refused naming it, and nothing changes', async () => {
  const id = await patron({ accountType: 'EXTERNAL', withPassword: false, firstName: 'Sis' });
  const error = await refused(id, { title: 'Dr', firstName: 'Manual' });
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.firstName' });
  expect(error.message).toMatch(/R3\.3/);
});

test('R3.3 an external user: the general fields staff may edit change, and staff may keep them from the SIS', async () => {
  const id = await patron({ accountType: 'EXTERNAL', withPassword: false });
  const user = await updated(id, {
    preferredFirstName: 'Al', title: 'Dr', userGroup: 'STAFF', campus: 'NORTH', expiryDate: '2031-06-30',
    keptFields: ['TITLE', 'USER_GROUP', 'CAMPUS', 'PIN_NUMBER'],
  });
  expect(user).toMatchObject({ preferredFirstName: 'Al', title: 'Dr', userGroup: 'STAFF', campus: 'NORTH', expiryDate: '2031-06-30' });
  expect(user.keptFields).toEqual(['TITLE', 'PIN_NUMBER', 'USER_GROUP', 'CAMPUS']);
});

test('R3.3 an external user: repeating the value the SIS sent is no change and is accepted', async () => {
  const id = await patron({ accountType: 'EXTERNAL', withPassword: false, firstName: 'Sis', lastName: 'Sent' });
  const user = await updated(id, { firstName: 'Sis', lastName: 'Sent', title: 'Dr' });
  expect(user).toMatchObject({ firstName: 'Sis', title: 'Dr' });
});

// ---------------------------------------------------------------- R4.2 who may edit whom

test('R4.2 a circulation desk operator may update a patron', async () => {
  const id = await patron();
  expect((await updated(id, { title: 'Dr' }, deskOperator)).updatedBy).toBe('cdo_update');
});

test('R4.2 a circulation desk operator may not update a staff user', async () => {
  const id = await createPerson(db(), inst, { recordType: 'STAFF' });
  expect((await refused(id, { title: 'Dr' }, deskOperator)).extensions?.code).toBe('FORBIDDEN');
});

test('R4.2 a circulation desk operator may not turn a patron into staff', async () => {
  const id = await patron();
  expect((await refused(id, { recordType: 'STAFF' }, deskOperator)).extensions?.code).toBe('FORBIDDEN');
});

test('R4.2 a Fulfillment Services Operator may view but not update a patron', async () => {
  await createPerson(db(), inst, { primaryIdentifier: 'fso_update', roles: [['FULFILLMENT_SERVICES_OPERATOR', 'INSTITUTION']] });
  const id = await patron();
  expect((await refused(id, { title: 'Dr' }, await app.login('fso_update', PASSWORD))).extensions?.code).toBe('FORBIDDEN');
});

test('R4.5 a protected account cannot be updated, even by a User Administrator', async () => {
  const id = await createPerson(db(), inst, { primaryIdentifier: 'exl_update', recordType: 'STAFF' });
  expect((await refused(id, { title: 'Dr' }, await app.login('ua_update', PASSWORD))).extensions?.code).toBe('FORBIDDEN');
});

test('R4.2 an operator marked "can\'t edit restricted users" may not update a restricted user', async () => {
  const operatorId = await createPerson(db(), inst, { primaryIdentifier: 'um_norestricted', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await db().query(`UPDATE app_user SET cannot_edit_restricted_users = true WHERE id = $1`, [operatorId]);
  const id = await patron();
  await db().query(`UPDATE app_user SET is_restricted = true WHERE id = $1`, [id]);
  expect((await refused(id, { title: 'Dr' }, await app.login('um_norestricted', PASSWORD))).extensions?.code).toBe('FORBIDDEN');
});

// ---------------------------------------------------------------- R4.3 assignment rules

test('R4.3 role assignment rules apply when an update changes the user group', async () => {
  const admin = await app.login('ua_update', PASSWORD);
  const profile = await app.gql(`mutation($in: RoleProfileInput!) { createRoleProfile(input: $in) { id } }`,
    { in: { name: 'Staff group roles', roles: [{ roleType: 'CATALOGER', scope: { type: 'INSTITUTION' } }] } }, admin);
  await app.gql(`mutation($in: RoleAssignmentRuleInput!) { createRoleAssignmentRule(input: $in) { id } }`,
    { in: { userGroup: 'STAFF', profileId: profile.data.createRoleProfile.id } }, admin);
  const id = await createPerson(db(), inst, { recordType: 'STAFF', roles: [['PATRON', 'INSTITUTION']] });
  const user = await updated(id, { userGroup: 'STAFF' }, admin);
  expect(user.roles.map((r: { roleType: string }) => r.roleType).sort()).toEqual(['CATALOGER', 'PATRON']);
  expect(await historyOf(id)).toContainEqual({ field: 'roles', old_value: null, new_value: expect.stringContaining('CATALOGER'), changed_by: 'ua_update' });
  // Issue 8, finding 2: the rules fire on behalf of whoever saves; a User Manager cannot grant CATALOGER, so its save is refused whole.
  const other = await createPerson(db(), inst, { recordType: 'STAFF', roles: [['PATRON', 'INSTITUTION']] });
  const error = await refused(other, { userGroup: 'STAFF' });
  expect(error.extensions?.code).toBe('FORBIDDEN');
  expect(error.message).toMatch(/CATALOGER@INSTITUTION/);
});

test('R4.3 a save that changes how a more powerful user signs in is refused: forcePasswordChange and mfaEnabled follow the subset rule', async () => {
  const id = await createPerson(db(), inst, { recordType: 'STAFF', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  for (const input of [{ forcePasswordChange: true }, { mfaEnabled: true }]) {
    expect((await refused(id, input)).extensions?.code).toBe('FORBIDDEN');
  }
  const patronId = await patron();
  expect((await updated(patronId, { forcePasswordChange: true })).forcePasswordChange).toBe(true);
});

// ---------------------------------------------------------------- R9.1 history and R11.3 events

test('R9.1 history has exactly one entry per changed field, with who and the old and new values', async () => {
  const id = await patron({ firstName: 'Old', lastName: 'Name' });
  await updated(id, {
    firstName: 'New', lastName: 'Name', middleName: 'M', title: 'Dr', userGroup: 'UNDERGRAD', campus: 'NORTH', preferredLanguage: 'fr',
    expiryDate: '2030-12-31', purgeDate: '2035-12-31', resourceSharingLibraries: ['MAIN', 'LAW'], catalogerLevel: '20',
    jobDescription: 'Reader', recordType: 'STAFF', preferredLastName: 'Pref',
  });
  expect(await historyOf(id)).toEqual(expect.arrayContaining([
    { field: 'firstName', old_value: 'Old', new_value: 'New', changed_by: 'um_update' },
    { field: 'middleName', old_value: null, new_value: 'M', changed_by: 'um_update' },
    { field: 'preferredLastName', old_value: null, new_value: 'Pref', changed_by: 'um_update' },
    { field: 'title', old_value: null, new_value: 'Dr', changed_by: 'um_update' },
    { field: 'jobDescription', old_value: null, new_value: 'Reader', changed_by: 'um_update' },
    { field: 'campus', old_value: null, new_value: 'NORTH', changed_by: 'um_update' },
    { field: 'userGroup', old_value: null, new_value: 'UNDERGRAD', changed_by: 'um_update' },
    { field: 'preferredLanguage', old_value: null, new_value: 'fr', changed_by: 'um_update' },
    { field: 'expiryDate', old_value: null, new_value: '2030-12-31', changed_by: 'um_update' },
    { field: 'purgeDate', old_value: null, new_value: '2035-12-31', changed_by: 'um_update' },
    { field: 'resourceSharingLibraries', old_value: null, new_value: 'MAIN, LAW', changed_by: 'um_update' },
    { field: 'catalogerLevel', old_value: null, new_value: '20', changed_by: 'um_update' },
    { field: 'recordType', old_value: 'PUBLIC', new_value: 'STAFF', changed_by: 'um_update' },
  ]));
  expect(await historyOf(id)).toHaveLength(13);
});

test('R9.1 a change of the last patron activity date is not recorded in history', async () => {
  const id = await patron();
  const user = await updated(id, { lastPatronActivityDate: '2026-01-15' });
  expect(user.lastPatronActivityDate).toBe('2026-01-15');
  expect(await historyOf(id)).toEqual([]);
});

test('R9.1 unchanged fields leave no history', async () => {
  const id = await patron({ firstName: 'Keep' });
  await updated(id, { firstName: 'Keep', title: 'Dr' });
  expect((await historyOf(id)).map((h) => h.field)).toEqual(['title']);
});

test('R11.3 an update writes one USER_UPDATED event carrying the recorded changes', async () => {
  const id = await patron();
  await updated(id, { title: 'Dr', gender: 'OTHER' });
  const events = await eventsOf(id);
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ event_type: 'USER_UPDATED', actor: 'um_update' });
  expect(events[0].payload.changes).toEqual([{ field: 'title', oldValue: null, newValue: 'Dr' }]);
  expect(events[0].payload.fields.sort()).toEqual(['gender', 'title']);
});

// ---------------------------------------------------------------- credentials and actors

test('R11.2 an update through an API key records api-key:<name> as updated by and in history', async () => {
  const admin = await app.login('ua_update', PASSWORD);
  const key = await app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`,
    { in: { name: 'sis-bridge', roles: [{ roleType: 'USER_MANAGER', scope: { type: 'INSTITUTION' } }] } }, admin);
  const id = await patron();
  const res = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key.data.createApiKey.secret },
    body: JSON.stringify({ query: UPDATE, variables: { id, input: { title: 'Dr' } } }),
  });
  const body = (await res.json()) as GraphQLResponse;
  expect(body.errors).toBeUndefined();
  expect(body.data.updateUser.updatedBy).toBe('api-key:sis-bridge');
  expect((await historyOf(id))[0].changed_by).toBe('api-key:sis-bridge');
});

test('R1.4 changing a user\'s items (an email, a note) sets its updated by and updated date', async () => {
  const userId = await createPerson(db(), inst, { recordType: 'PUBLIC', withPassword: false, roles: [['PATRON', 'INSTITUTION']] });
  const before = new Date();
  for (const mutation of [
    `mutation($u: ID!) { addEmail(userId: $u, input: { address: "touched@example.edu", type: "PERSONAL" }) { id } }`,
    `mutation($u: ID!) { addNote(userId: $u, input: { text: "touched" }) { id } }`,
  ]) {
    expect((await app.gql(mutation, { u: userId }, manager)).errors).toBeUndefined();
    const res = await app.gql(`query($u: ID!) { user(id: $u) { updatedBy updatedAt } }`, { u: userId }, manager);
    expect(res.data.user.updatedBy).toBe('um_update');
    expect(new Date(res.data.user.updatedAt).getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
  }
});
