import type { DataSource } from 'typeorm';
import { configureFines, givenFine } from '../fines/fine-fixtures';
import { createInstitution, createPatron, createPerson, InstitutionFixture, loginOperators, PASSWORD, PersonSpec } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';
import { givenContacts, givenLoan, givenNote, givenStatistic, lifecycleFingerprint } from './lifecycle-fixtures';

/**
 * Specification of `purgeUser` (issue 10 item 5): R10.3 (personal data goes,
 * statistics stay under the delete-user policy, an anonymous stub remains),
 * R10.1/R10.2/R4.5 and the subset rule as for deleteUser, and the purge
 * reaching what history and events copied.
 */

let app: TestApp;
let inst: InstitutionFixture;
let other: InstitutionFixture;
let tokens: Record<string, string>;
const db = (): DataSource => app.db.dataSource;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  other = await createInstitution(db(), 'OTHER');
  await configureFines(db(), inst);
  await db().query(`INSERT INTO code_value (institution_id, kind, code, description) VALUES ($1, 'STATISTIC_CATEGORY', 'HISTORY', 'History')`, [inst.id]);
  tokens = await loginOperators(app, inst, {
    um_purge: ['USER_MANAGER', 'INSTITUTION'],
    ua_purge: ['USER_ADMINISTRATOR', 'INSTITUTION'],
    cdm_purge: ['CIRCULATION_DESK_MANAGER', 'MAIN_DESK'],
    cdo_purge: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
    fso_purge: ['FULFILLMENT_SERVICES_OPERATOR', 'MAIN'],
  });
});
afterAll(() => app.close());

const PURGE = `mutation($id: ID!) { purgeUser(id: $id) { id purgedAt displayName primaryIdentifier firstName lastName status userGroup campus expiryDate purgeDate } }`;
const HISTORY = `query($id: ID!) { userHistory(userId: $id, first: 100) { edges { node { field oldValue newValue } } } }`;

const purge = (id: string, token = tokens.um_purge): Promise<GraphQLResponse> => app.gql(PURGE, { id }, token);
const patron = (spec: PersonSpec = {}) => createPatron(db(), inst, spec);
const userRow = async (id: string) => (await db().query(`SELECT * FROM app_user WHERE id = $1`, [id]))[0];
const rowsOf = async (table: string, id: string) => (await db().query(`SELECT * FROM ${table} WHERE user_id = $1`, [id])).length;

async function purged(id: string, token = tokens.um_purge) {
  const res = await purge(id, token);
  expect(res.errors).toBeUndefined();
  return res.data.purgeUser;
}

async function setPolicy(input: Record<string, boolean>) {
  const res = await app.gql(`mutation($in: DeleteUserPolicyInput!) { setDeleteUserPolicy(input: $in) { keepStatistics } }`, { in: input }, tokens.ua_purge);
  expect(res.errors).toBeUndefined();
}

/** The request is refused with `code`, and nothing in the database changed. */
async function refused(query: string, variables: Record<string, unknown>, token: string | undefined, code: string) {
  const before = await lifecycleFingerprint(db());
  const res = await app.gql(query, variables, token);
  expect(res.errors?.[0].extensions?.code).toBe(code);
  expect(await lifecycleFingerprint(db())).toBe(before);
  return res.errors![0];
}

/** A patron with something of every kind of personal data, and a statistic. */
async function richPatron(pid: string) {
  const id = await patron({ primaryIdentifier: pid, firstName: 'Ada', lastName: 'Lovelace', birthDate: '1990-12-10', identifiers: [['BARCODE', `${pid}-BC`]] });
  await db().query(`UPDATE app_user SET user_group = 'UNDERGRAD', campus = 'NORTH', expiry_date = '2030-01-01', purge_date = '2031-01-01',
                      title = 'Dr', pin_number = '1234', gender = 'FEMALE', website_url = 'https://ada.example', job_description = 'Analyst',
                      sis_values = '{"TITLE":"Dr"}', kept_fields = '{TITLE}', external_owner = 'SIS' WHERE id = $1`, [id]);
  await givenContacts(db(), inst, id, `${pid}@example.edu`);
  await givenNote(db(), inst, id, 'Lives at 1 Elm Street');
  await givenStatistic(db(), inst, id);
  return id;
}

test('R10.3 purging keeps the statistics and removes identifiers and contact information', async () => {
  const id = await richPatron('ada_purge');
  const stub = await purged(id);
  expect(stub).toMatchObject({ id, primaryIdentifier: null, firstName: null, lastName: null, displayName: 'Purged user', status: 'INACTIVE' });
  expect(stub.purgedAt).not.toBeNull();
  expect(await rowsOf('user_statistic', id)).toBe(1);
  for (const table of ['user_identifier', 'user_email', 'user_address', 'user_phone', 'user_note', 'role_assignment']) {
    expect({ table, rows: await rowsOf(table, id) }).toEqual({ table, rows: 0 });
  }
});

test('R10.3 purging clears every personal column of the row', async () => {
  const id = await richPatron('ada_columns');
  await purged(id);
  expect(await userRow(id)).toMatchObject({
    primary_identifier: null, first_name: null, last_name: null, title: null, pin_number: null, birth_date: null, gender: null,
    website_url: null, job_description: null, password_hash: null, kept_fields: [], sis_values: {}, external_owner: null, search_text: '',
  });
});

test('R10.3 by default the policy keeps user group, campus and dates', async () => {
  const stub = await purged(await richPatron('ada_keeps'));
  expect(stub).toMatchObject({ userGroup: 'UNDERGRAD', campus: 'NORTH', expiryDate: '2030-01-01', purgeDate: '2031-01-01' });
});

test('R10.3 a policy that keeps nothing removes statistics, user group, campus and dates', async () => {
  await setPolicy({ keepStatistics: false, keepUserGroup: false, keepCampus: false, keepDates: false });
  try {
    const id = await richPatron('ada_nothing');
    const stub = await purged(id);
    expect(stub).toMatchObject({ userGroup: null, campus: null, expiryDate: null, purgeDate: null });
    expect(await rowsOf('user_statistic', id)).toBe(0);
  } finally {
    await setPolicy({ keepStatistics: true, keepUserGroup: true, keepCampus: true, keepDates: true });
  }
});

test('R10.3 closed fines and returned loans stay with the stub', async () => {
  const id = await patron();
  await givenFine(db(), inst, id, '2.00', { status: 'CLOSED' });
  await givenLoan(db(), inst, id, { returned: true });
  await purged(id);
  expect([await rowsOf('fine_fee', id), await rowsOf('loan', id)]).toEqual([1, 1]);
});

test('R10.3 personal values are gone from the user\'s earlier history and events', async () => {
  const id = await richPatron('ada_history');
  const edits = [
    app.gql(`mutation($id: ID!) { updateUser(id: $id, input: { firstName: "Augusta", title: "Prof" }) { id } }`, { id }, tokens.um_purge),
    app.gql(`mutation($id: ID!) { addIdentifier(userId: $id, input: { type: "UNIV_ID", value: "U-ADA-77" }) { id } }`, { id }, tokens.um_purge),
    app.gql(`mutation($id: ID!) { addNote(userId: $id, input: { text: "Phoned about 1 Elm Street" }) { id } }`, { id }, tokens.um_purge),
  ];
  for (const res of await Promise.all(edits)) expect(res.errors).toBeUndefined();
  await purged(id);
  const texts = JSON.stringify([
    await db().query(`SELECT old_value, new_value FROM history_entry WHERE user_id = $1`, [id]),
    await db().query(`SELECT payload FROM event_outbox WHERE aggregate_id = $1`, [id]),
  ]);
  for (const personal of ['Ada', 'Augusta', 'Prof', 'U-ADA-77', 'Elm Street', 'ada_history']) expect(texts).not.toContain(personal);
  expect(texts).toContain('(purged)');
});

test('R9 a purge is recorded with nothing personal, and the history stays readable by id', async () => {
  const id = await richPatron('ada_record');
  await app.gql(`mutation($id: ID!) { updateUser(id: $id, input: { userGroup: "STAFF" }) { id } }`, { id }, tokens.um_purge);
  await purged(id);
  const history = await app.gql(HISTORY, { id }, tokens.um_purge);
  expect(history.errors).toBeUndefined();
  const entries = history.data.userHistory.edges.map((e: any) => e.node);
  expect(entries[0]).toEqual({ field: 'record', oldValue: null, newValue: 'purged' });
  // The user group is kept by the policy, and so is its history.
  expect(entries).toContainEqual({ field: 'userGroup', oldValue: 'UNDERGRAD', newValue: 'STAFF' });
  const [event] = await db().query(`SELECT event_type, actor FROM event_outbox WHERE aggregate_id = $1 ORDER BY id DESC LIMIT 1`, [id]);
  expect(event).toEqual({ event_type: 'USER_PURGED', actor: 'um_purge' });
});

test('R9 the sponsor of a purged proxy records the lost link, and its earlier entries no longer name the proxy', async () => {
  const sponsor = await patron();
  const proxy = await patron({ primaryIdentifier: 'proxy_purged' });
  expect((await app.gql(`mutation($p: ID!, $s: ID!) { addProxy(proxyUserId: $p, sponsorUserId: $s) { id } }`, { p: proxy, s: sponsor }, tokens.um_purge)).errors).toBeUndefined();
  await purged(proxy);
  const history = await app.gql(HISTORY, { id: sponsor }, tokens.um_purge);
  expect(history.data.userHistory.edges.map((e: any) => e.node)).toEqual([
    { field: 'proxies', oldValue: '(purged)', newValue: null },
    { field: 'proxies', oldValue: null, newValue: '(purged)' },
  ]);
  expect(JSON.stringify(await db().query(`SELECT payload FROM event_outbox WHERE aggregate_id = $1`, [sponsor]))).not.toContain('proxy_purged');
  expect(await db().query(`SELECT id FROM proxy_link WHERE sponsor_user_id = $1`, [sponsor])).toEqual([]);
});

test('R10.3 a purged staff user\'s token stops working', async () => {
  const id = await createPerson(db(), inst, { primaryIdentifier: 'leaving_cataloger', roles: [['PATRON', 'INSTITUTION'], ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']] });
  const token = await app.login('leaving_cataloger', PASSWORD);
  expect((await app.gql(`{ me { id } }`, {}, token)).data?.me?.id).toBe(id);
  await purged(id, tokens.ua_purge);
  expect((await app.gql(`{ me { id } }`, {}, token)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
});

test('R10.3 a purged stub refuses every further change with CONFLICT', async () => {
  const id = await patron();
  await purged(id);
  const changes = [
    `mutation($id: ID!) { updateUser(id: $id, input: { firstName: "Back" }) { id } }`,
    `mutation($id: ID!) { addNote(userId: $id, input: { text: "hello" }) { id } }`,
    `mutation($id: ID!) { addIdentifier(userId: $id, input: { type: "BARCODE", value: "BACK-1" }) { id } }`,
    `mutation($id: ID!) { setUserPin(userId: $id, pin: "4321") { id } }`,
    `mutation($id: ID!) { reactivateUser(id: $id) { id } }`,
    `mutation($id: ID!) { purgeUser(id: $id) { id } }`,
    `mutation($id: ID!) { deleteUser(id: $id) { deletedUserId } }`,
  ];
  for (const mutation of changes) {
    const error = await refused(mutation, { id }, tokens.ua_purge, 'CONFLICT');
    expect(error.message).toMatch(/purged/);
  }
});

test('R10.3 stubs are absent from users, its totalCount and userByIdentifier; user(id) still answers', async () => {
  const id = await patron({ primaryIdentifier: 'stub_search', lastName: 'Stubbington' });
  const list = async () => (await app.gql(`{ users(first: 100) { totalCount edges { node { id } } } }`, {}, tokens.um_purge)).data.users;
  const before = await list();
  await purged(id);
  const after = await list();
  expect(after.totalCount).toBe(before.totalCount - 1);
  expect(after.edges.map((e: any) => e.node.id)).not.toContain(id);
  expect((await app.gql(`{ userByIdentifier(value: "stub_search") { id } }`, {}, tokens.um_purge)).data.userByIdentifier).toBeNull();
  expect((await app.gql(`query($id: ID!) { user(id: $id) { id displayName purgedAt } }`, { id }, tokens.um_purge)).data.user).toMatchObject({ id, displayName: 'Purged user' });
});

test('R10.2 purging is refused with a balance due and open loans, every reason listed', async () => {
  const id = await patron();
  await givenFine(db(), inst, id, '9.00', { owner: 'LAW' });
  await givenLoan(db(), inst, id);
  await givenLoan(db(), inst, id);
  const error = await refused(PURGE, { id }, tokens.um_purge, 'CONFLICT');
  expect(error.extensions!.reasons).toEqual([
    { code: 'BALANCE_DUE', message: expect.stringContaining('9.00') },
    { code: 'OPEN_LOANS', message: expect.stringContaining('2 loans') },
  ]);
});

test('R4.5 purging a protected account is FORBIDDEN', async () => {
  const id = await createPerson(db(), inst, { primaryIdentifier: 'rialto_ops', roles: [['PATRON', 'INSTITUTION']] });
  await refused(PURGE, { id }, tokens.ua_purge, 'FORBIDDEN');
});

test('R10.1 circulation desk and fulfillment operators and unauthenticated clients may not purge', async () => {
  const id = await patron();
  for (const op of ['cdm_purge', 'cdo_purge', 'fso_purge']) await refused(PURGE, { id }, tokens[op], 'FORBIDDEN');
  await refused(PURGE, { id }, undefined, 'UNAUTHENTICATED');
});

test('subset rule: nobody purges a user holding roles they could not grant', async () => {
  const id = await createPerson(db(), inst, { roles: [['USER_ADMINISTRATOR', 'MAIN']] });
  await refused(PURGE, { id }, tokens.um_purge, 'FORBIDDEN');
});

test('another institution\'s user is NOT_FOUND, and its history is empty here', async () => {
  const id = await createPatron(db(), other);
  await db().query(`INSERT INTO history_entry (institution_id, user_id, field, new_value, changed_by) VALUES ($1, $2, 'record', 'created', 'x')`, [other.id, id]);
  await refused(PURGE, { id }, tokens.ua_purge, 'NOT_FOUND');
  const history = await app.gql(`query($id: ID!) { userHistory(userId: $id) { totalCount edges { node { field } } } }`, { id }, tokens.ua_purge);
  expect(history.data.userHistory).toEqual({ totalCount: 0, edges: [] });
});
