import type { DataSource } from 'typeorm';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD, PersonSpec, userTableCounts } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';

/**
 * Specification of `toggleAccountType` (issue 4): R3.1 (who may toggle,
 * which accounts) and R3.2 (what toggling does), over HTTP.
 */

let app: TestApp;
let inst: InstitutionFixture;
let manager: string;
let administrator: string;
const db = (): DataSource => app.db.dataSource;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await createPerson(db(), inst, { primaryIdentifier: 'um_toggle', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await createPerson(db(), inst, { primaryIdentifier: 'ua_toggle', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  [manager, administrator] = await Promise.all([app.login('um_toggle', PASSWORD), app.login('ua_toggle', PASSWORD)]);
});
afterAll(() => app.close());

const TOGGLE = `
  mutation($u: ID!, $p: String) {
    toggleAccountType(userId: $u, password: $p) { id accountType externalOwner hasPassword updatedBy identifiers { value external } }
  }`;

const toggle = (userId: string, token = manager, password?: string): Promise<GraphQLResponse> => app.gql(TOGGLE, { u: userId, p: password }, token);

async function toggled(userId: string, token = manager, password?: string) {
  const res = await toggle(userId, token, password);
  expect(res.errors).toBeUndefined();
  return res.data.toggleAccountType;
}

const userRow = async (id: string) => (await db().query(`SELECT * FROM app_user WHERE id = $1`, [id]))[0];

/** A toggle that must be refused: nothing in any table changes; returns the error. */
async function refused(userId: string, token = manager, password?: string) {
  const [counts, row] = [await userTableCounts(db()), await userRow(userId)];
  const identifiers = await db().query(`SELECT * FROM user_identifier WHERE user_id = $1 ORDER BY value`, [userId]);
  const res = await toggle(userId, token, password);
  expect(res.data?.toggleAccountType ?? null).toBeNull();
  expect(res.errors).toHaveLength(1);
  expect(await userTableCounts(db())).toEqual(counts);
  expect(await userRow(userId)).toEqual(row);
  expect(await db().query(`SELECT * FROM user_identifier WHERE user_id = $1 ORDER BY value`, [userId])).toEqual(identifiers);
  return res.errors![0];
}

let serial = 0;
const patron = (spec: PersonSpec = {}) => {
  serial += 1;
  return createPerson(db(), inst, {
    recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']], identifiers: [['BARCODE', `TG-${serial}-A`], ['UNIV_ID', `TG-${serial}-B`]], ...spec,
  });
};

const byValue = (items: { value: string; external: boolean }[]) => [...items].sort((a, b) => a.value.localeCompare(b.value));

test('R3.2 an internal account becomes external: owner SIS_temp, every identifier external, no password', async () => {
  const id = await patron();
  const user = await toggled(id);
  expect(user).toMatchObject({ accountType: 'EXTERNAL', externalOwner: 'SIS_temp', hasPassword: false, updatedBy: 'um_toggle' });
  expect(user.identifiers.every((i: { external: boolean }) => i.external)).toBe(true);
  expect(user.identifiers).toHaveLength(2);
});

test('R3.2 toggling twice restores INTERNAL with the identifiers still there, now external', async () => {
  const id = await patron();
  const before = await db().query(`SELECT value FROM user_identifier WHERE user_id = $1 ORDER BY value`, [id]);
  await toggled(id);
  const user = await toggled(id);
  expect(user).toMatchObject({ accountType: 'INTERNAL', externalOwner: null, hasPassword: false });
  expect(byValue(user.identifiers)).toEqual(before.map((r: { value: string }) => ({ value: r.value, external: true })));
});

test('R3.2 an account that becomes INTERNAL may be given a password, and it logs in', async () => {
  const id = await createPerson(db(), inst, { primaryIdentifier: 'sis_staff', accountType: 'EXTERNAL', withPassword: false, roles: [['CATALOGER', 'INSTITUTION']] });
  const user = await toggled(id, administrator, 'chosen at toggle 1');
  expect(user).toMatchObject({ accountType: 'INTERNAL', hasPassword: true });
  await expect(app.login('sis_staff', 'chosen at toggle 1')).resolves.toEqual(expect.any(String));
});

test('R3.1 issue 8 finding 1: toggling back to INTERNAL with a password follows the subset rule', async () => {
  // A User Manager grants no role, so it may not give a cataloger a password (nor take one away) by toggling.
  const id = await createPerson(db(), inst, { primaryIdentifier: 'sis_cataloger', accountType: 'EXTERNAL', withPassword: false, roles: [['CATALOGER', 'INSTITUTION']] });
  expect((await refused(id, manager, 'chosen at toggle 1')).extensions?.code).toBe('FORBIDDEN');
  const internal = await createPerson(db(), inst, { roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  expect((await refused(internal, manager)).extensions?.code).toBe('FORBIDDEN');
});

test('R1.4 the password given when becoming INTERNAL follows the password policy', async () => {
  const id = await patron({ accountType: 'EXTERNAL', withPassword: false });
  expect((await refused(id, manager, 'short')).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
});

test('R3.2 a password given when the account becomes EXTERNAL is refused', async () => {
  const id = await patron();
  expect((await refused(id, manager, 'a fine long password')).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
});

test('R3.2 becoming EXTERNAL removes the password and stops the user\'s tokens', async () => {
  const id = await createPerson(db(), inst, { primaryIdentifier: 'going_sis', roles: [['CATALOGER', 'INSTITUTION']] });
  const token = await app.login('going_sis', PASSWORD);
  await toggled(id, administrator);
  expect((await app.gql(`{ me { id } }`, {}, token)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
});

test('R3.1 an internal account with external authentication cannot be toggled', async () => {
  const id = await patron({ accountType: 'INTERNAL_WITH_EXTERNAL_AUTH', withPassword: false });
  expect((await refused(id)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
});

test('R3.1 a User Administrator may toggle', async () => {
  const id = await patron();
  expect((await toggled(id, administrator)).accountType).toBe('EXTERNAL');
});

test('R3.1 a Circulation Desk Manager may not toggle, even a patron', async () => {
  await createPerson(db(), inst, { primaryIdentifier: 'cdm_toggle', roles: [['CIRCULATION_DESK_MANAGER', 'INSTITUTION']] });
  const id = await patron();
  expect((await refused(id, await app.login('cdm_toggle', PASSWORD))).extensions?.code).toBe('FORBIDDEN');
});

test('R4.5 a protected account cannot be toggled', async () => {
  const id = await createPerson(db(), inst, { primaryIdentifier: 'rialto_toggle', recordType: 'STAFF' });
  expect((await refused(id, administrator)).extensions?.code).toBe('FORBIDDEN');
});

test('an unknown user is NOT_FOUND', async () => {
  const res = await toggle('00000000-0000-4000-8000-000000000000');
  expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
});

test('R9.1 toggling records the account type change and the removed password in history, and one event', async () => {
  const id = await patron();
  await toggled(id);
  expect(await db().query(`SELECT field, old_value, new_value, changed_by FROM history_entry WHERE user_id = $1 ORDER BY id`, [id])).toEqual([
    { field: 'accountType', old_value: 'INTERNAL', new_value: 'EXTERNAL', changed_by: 'um_toggle' },
    { field: 'password', old_value: null, new_value: '(removed)', changed_by: 'um_toggle' },
  ]);
  const events = await db().query(`SELECT event_type, payload FROM event_outbox WHERE aggregate_id = $1`, [id]);
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({
    event_type: 'USER_ACCOUNT_TYPE_CHANGED', payload: { accountType: 'EXTERNAL', externalOwner: 'SIS_temp', identifiersMadeExternal: 2 },
  });
});
