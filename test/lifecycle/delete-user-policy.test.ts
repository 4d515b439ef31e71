import type { DataSource } from 'typeorm';
import { createInstitution, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { lifecycleFingerprint } from './lifecycle-fixtures';

/**
 * Specification of the delete-user policy (issue 10 item 5, R10.3): what a
 * purge keeps, an institution setting that defaults to keeping everything.
 */

let app: TestApp;
let inst: InstitutionFixture;
let tokens: Record<string, string>;
const db = (): DataSource => app.db.dataSource;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  const other = await createInstitution(db(), 'OTHER');
  tokens = await loginOperators(app, inst, {
    ua_policy: ['USER_ADMINISTRATOR', 'INSTITUTION'],
    gsa_policy: ['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION'],
    um_policy: ['USER_MANAGER', 'INSTITUTION'],
    ua_main_policy: ['USER_ADMINISTRATOR', 'MAIN'],
  });
  Object.assign(tokens, await loginOperators(app, other, { ua_other: ['USER_ADMINISTRATOR', 'INSTITUTION'] }));
});
afterAll(() => app.close());

const POLICY = `{ deleteUserPolicy { keepStatistics keepUserGroup keepCampus keepDates } }`;
const SET = `mutation($in: DeleteUserPolicyInput!) { setDeleteUserPolicy(input: $in) { keepStatistics keepUserGroup keepCampus keepDates } }`;
const ALL_KEPT = { keepStatistics: true, keepUserGroup: true, keepCampus: true, keepDates: true };

test('R10.3 by default a purge keeps statistics, user group, campus and dates; any operator may read the policy', async () => {
  const res = await app.gql(POLICY, {}, tokens.um_policy);
  expect(res.errors).toBeUndefined();
  expect(res.data.deleteUserPolicy).toEqual(ALL_KEPT);
});

test('R10.3 a User Administrator changes the settings given and leaves the others', async () => {
  const res = await app.gql(SET, { in: { keepStatistics: false, keepDates: null } }, tokens.ua_policy);
  expect(res.errors).toBeUndefined();
  expect(res.data.setDeleteUserPolicy).toEqual({ ...ALL_KEPT, keepStatistics: false });
  expect((await app.gql(POLICY, {}, tokens.um_policy)).data.deleteUserPolicy).toEqual({ ...ALL_KEPT, keepStatistics: false });
  await app.gql(SET, { in: { keepStatistics: true } }, tokens.gsa_policy);
});

test('R11.3 a change publishes DELETE_USER_POLICY_CHANGED with the changes; no change, no event', async () => {
  const count = async () => (await db().query(`SELECT count(*)::int AS n FROM event_outbox WHERE event_type = 'DELETE_USER_POLICY_CHANGED'`))[0].n;
  const before = await count();
  await app.gql(SET, { in: { keepCampus: false } }, tokens.gsa_policy);
  await app.gql(SET, { in: { keepCampus: false } }, tokens.gsa_policy);
  expect(await count()).toBe(before + 1);
  const [event] = await db().query(`SELECT aggregate_type, aggregate_id, actor, payload FROM event_outbox WHERE event_type = 'DELETE_USER_POLICY_CHANGED' ORDER BY id DESC LIMIT 1`);
  expect(event).toEqual({
    aggregate_type: 'INSTITUTION', aggregate_id: inst.id, actor: 'gsa_policy',
    payload: { policy: { ...ALL_KEPT, keepCampus: false }, changes: [{ field: 'keepCampus', oldValue: 'true', newValue: 'false' }] },
  });
  await app.gql(SET, { in: { keepCampus: true } }, tokens.gsa_policy);
});

test('R10.3 a User Manager, a library-scoped administrator and an anonymous client may not change the policy', async () => {
  const before = await lifecycleFingerprint(db());
  for (const token of [tokens.um_policy, tokens.ua_main_policy, undefined]) {
    const res = await app.gql(SET, { in: { keepDates: false } }, token);
    expect(res.errors?.[0].extensions?.code).toBe(token ? 'FORBIDDEN' : 'UNAUTHENTICATED');
  }
  expect(await lifecycleFingerprint(db())).toBe(before);
});

test('each institution has its own policy', async () => {
  await app.gql(SET, { in: { keepUserGroup: false } }, tokens.ua_other);
  expect((await app.gql(POLICY, {}, tokens.um_policy)).data.deleteUserPolicy).toEqual(ALL_KEPT);
  expect((await app.gql(POLICY, {}, tokens.ua_other)).data.deleteUserPolicy).toEqual({ ...ALL_KEPT, keepUserGroup: false });
});
