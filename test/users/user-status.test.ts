import type { DataSource } from 'typeorm';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD, PersonSpec, userTableCounts } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';

/**
 * Specification of `deactivateUser` / `reactivateUser` (issue 4): R1.5
 * (status and status date), R4.2 and R4.5 (who may, on whom), R9/R11.3.
 */

let app: TestApp;
let inst: InstitutionFixture;
let administrator: string;
let deskOperator: string;
const db = (): DataSource => app.db.dataSource;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await createPerson(db(), inst, { primaryIdentifier: 'ua_status', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  await createPerson(db(), inst, { primaryIdentifier: 'cdo_status', roles: [['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']] });
  [administrator, deskOperator] = await Promise.all([app.login('ua_status', PASSWORD), app.login('cdo_status', PASSWORD)]);
});
afterAll(() => app.close());

const DEACTIVATE = `mutation($id: ID!) { deactivateUser(id: $id) { id status statusDate activeNotExpired updatedBy } }`;
const REACTIVATE = `mutation($id: ID!) { reactivateUser(id: $id) { id status statusDate activeNotExpired updatedBy } }`;

const run = (mutation: string, id: string, token = administrator): Promise<GraphQLResponse> => app.gql(mutation, { id }, token);

async function succeeded(mutation: string, id: string, token = administrator) {
  const res = await run(mutation, id, token);
  expect(res.errors).toBeUndefined();
  return Object.values(res.data)[0] as any;
}

const userRow = async (id: string) => (await db().query(`SELECT * FROM app_user WHERE id = $1`, [id]))[0];

async function refused(mutation: string, id: string, token = administrator) {
  const [counts, row] = [await userTableCounts(db()), await userRow(id)];
  const res = await run(mutation, id, token);
  expect(res.data ?? null).toBeNull();
  expect(res.errors).toHaveLength(1);
  expect(await userTableCounts(db())).toEqual(counts);
  expect(await userRow(id)).toEqual(row);
  return res.errors![0];
}

const patron = (spec: PersonSpec = {}) => createPerson(db(), inst, { recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']], ...spec });

test('R1.5 deactivating sets INACTIVE and the status date', async () => {
  const id = await patron();
  await db().query(`UPDATE app_user SET status_date = '2020-01-01' WHERE id = $1`, [id]);
  const before = Date.now();
  const user = await succeeded(DEACTIVATE, id);
  expect(user).toMatchObject({ status: 'INACTIVE', activeNotExpired: false, updatedBy: 'ua_status' });
  expect(new Date(user.statusDate).getTime()).toBeGreaterThanOrEqual(before - 1000);
});

test('R1.5 reactivating sets ACTIVE and the status date', async () => {
  const id = await patron({ status: 'INACTIVE' });
  await db().query(`UPDATE app_user SET status_date = '2020-01-01' WHERE id = $1`, [id]);
  const before = Date.now();
  const user = await succeeded(REACTIVATE, id);
  expect(user).toMatchObject({ status: 'ACTIVE', activeNotExpired: true });
  expect(new Date(user.statusDate).getTime()).toBeGreaterThanOrEqual(before - 1000);
});

test('R1.5 deactivating an inactive user is CONFLICT and changes nothing', async () => {
  const id = await patron({ status: 'INACTIVE' });
  expect((await refused(DEACTIVATE, id)).extensions).toMatchObject({ code: 'CONFLICT', field: 'id', value: id });
});

test('R1.5 reactivating an active user is CONFLICT and changes nothing', async () => {
  const id = await patron();
  expect((await refused(REACTIVATE, id)).extensions).toMatchObject({ code: 'CONFLICT', field: 'id' });
});

test('R1.5 a deactivated staff user\'s token stops working at the next request', async () => {
  const id = await createPerson(db(), inst, { primaryIdentifier: 'leaving_staff', roles: [['CATALOGER', 'INSTITUTION']] });
  const token = await app.login('leaving_staff', PASSWORD);
  await succeeded(DEACTIVATE, id);
  expect((await app.gql(`{ me { id } }`, {}, token)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
});

test('Issue 9 finding 10: a token issued before deactivateUser is still refused after reactivateUser; a new login works', async () => {
  const id = await createPerson(db(), inst, { primaryIdentifier: 'returning_staff', roles: [['CATALOGER', 'INSTITUTION']] });
  const token = await app.login('returning_staff', PASSWORD);
  await succeeded(DEACTIVATE, id);
  await succeeded(REACTIVATE, id);
  const res = await app.gql(`{ me { id } }`, {}, token);
  expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  expect(res.errors?.[0].message).toMatch(/sessions were ended after this token was issued/);
  const fresh = await app.login('returning_staff', PASSWORD);
  expect((await app.gql(`{ me { id } }`, {}, fresh)).data.me.id).toBe(id);
});

test('R4.5 a User Administrator may not deactivate exl_impl', async () => {
  const id = await createPerson(db(), inst, { primaryIdentifier: 'exl_impl', recordType: 'STAFF' });
  expect((await refused(DEACTIVATE, id)).extensions?.code).toBe('FORBIDDEN');
});

test('R4.5 a User Administrator may not deactivate leganto_guest', async () => {
  const id = await createPerson(db(), inst, { primaryIdentifier: 'leganto_guest', recordType: 'STAFF' });
  expect((await refused(DEACTIVATE, id)).extensions?.code).toBe('FORBIDDEN');
});

test('R4.5 a User Administrator may not reactivate an inactive exl_ account', async () => {
  const id = await createPerson(db(), inst, { primaryIdentifier: 'exl_impl_old', recordType: 'STAFF', status: 'INACTIVE' });
  expect((await refused(REACTIVATE, id)).extensions?.code).toBe('FORBIDDEN');
});

test('R4.2 a circulation desk operator may deactivate a patron', async () => {
  const id = await patron();
  expect((await succeeded(DEACTIVATE, id, deskOperator)).status).toBe('INACTIVE');
});

test('R4.2 a circulation desk operator may not deactivate a staff user', async () => {
  const id = await createPerson(db(), inst, { recordType: 'STAFF' });
  expect((await refused(DEACTIVATE, id, deskOperator)).extensions?.code).toBe('FORBIDDEN');
});

test('R9 a status change is recorded in history with one event', async () => {
  const id = await patron();
  await succeeded(DEACTIVATE, id);
  await succeeded(REACTIVATE, id);
  expect(await db().query(`SELECT field, old_value, new_value, changed_by FROM history_entry WHERE user_id = $1 ORDER BY id`, [id])).toEqual([
    { field: 'status', old_value: 'ACTIVE', new_value: 'INACTIVE', changed_by: 'ua_status' },
    { field: 'status', old_value: 'INACTIVE', new_value: 'ACTIVE', changed_by: 'ua_status' },
  ]);
  expect((await db().query(`SELECT event_type FROM event_outbox WHERE aggregate_id = $1 ORDER BY id`, [id])).map((e: { event_type: string }) => e.event_type))
    .toEqual(['USER_DEACTIVATED', 'USER_REACTIVATED']);
});
