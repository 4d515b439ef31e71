import { createInstitution, createPatron, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { pause, subscribe } from '../support/ws-client';

let app: TestApp;
let inst: InstitutionFixture;
const tokens: Record<string, string> = {};
const db = () => app.db.dataSource;
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

const USER_CHANGED = `subscription($u: ID, $after: String) { userChanged(userId: $u, after: $after) {
  cursor type family by changes { field oldValue newValue } userId user { id firstName lastName } } }`;
const RENAME = `mutation($id: ID!, $f: String!) { updateUser(id: $id, input: { firstName: $f }) { id } }`;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  Object.assign(tokens, await loginOperators(app, inst, { um: ['USER_MANAGER', 'INSTITUTION'] }));
});
afterAll(() => app.close());

test('R11.3 an event arrives after a mutation, with the fields the subscriber selected', async () => {
  const userId = await createPatron(db(), inst);
  const sub = subscribe(app.url, bearer(tokens.um), USER_CHANGED, { u: userId });
  expect(await sub.acknowledged).toBe(true);
  await pause(200);
  const res = await app.gql(RENAME, { id: userId, f: 'Ada' }, tokens.um);
  expect(res.errors).toBeUndefined();
  const [event] = await sub.waitFor(1);
  expect(event.data.userChanged).toMatchObject({
    type: 'USER_UPDATED', family: 'USER', by: 'um', userId, user: { id: userId, firstName: 'Ada' },
    changes: [{ field: 'firstName', oldValue: 'Test', newValue: 'Ada' }],
  });
  await sub.dispose();
});

test('a subscription that ends while no event comes leaves nothing behind: its listener goes with it', async () => {
  await pause(200); // the previous test's subscription is gone
  const before = app.server.hub.listenerCount();
  const subs = [1, 2, 3].map(() => subscribe(app.url, bearer(tokens.um), USER_CHANGED, { u: '00000000-0000-4000-8000-000000000000' }));
  for (const sub of subs) expect(await sub.acknowledged).toBe(true);
  await pause(200);
  expect(app.server.hub.listenerCount()).toBe(before + 3);
  for (const sub of subs) await sub.dispose();
  await pause(200);
  expect(app.server.hub.listenerCount()).toBe(before);
});
