import { createInstitution, createPatron, InstitutionFixture, loginOperators } from '../support/fixtures';
import { Client } from 'pg';
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
  // Another institution's User Manager, on the same server.
  Object.assign(tokens, await loginOperators(app, await createInstitution(db(), 'OTHER'), { um_other: ['USER_MANAGER', 'INSTITUTION'] }));
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

test.each([
  ['with a token', () => tokens.um],
  ['without a token', () => undefined],
])('a subscription sent over HTTP %s is BAD_USER_INPUT pointing to graphql-ws, never an internal error', async (_what, token) => {
  const res = await app.gql(`subscription { userChanged { cursor } }`, {}, token());
  expect(res.errors).toHaveLength(1);
  expect(res.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  expect(res.errors![0].message).toMatch(/graphql-ws/);
});

test('institution isolation: the events query gives another institution\'s operator none of this one\'s events', async () => {
  const userId = await createPatron(db(), inst);
  const res = await app.gql(RENAME, { id: userId, f: 'Isolated' }, tokens.um);
  expect(res.errors).toBeUndefined();
  const EVENTS = `query($after: String) { events(after: $after, first: 500) { edges { node { ... on UserEvent { userId } } } } }`;
  // The event is released (the institution's own operator sees it) before the other one looks.
  let mine: { node: { userId?: string } }[] = [];
  for (let tries = 0; tries < 50 && !mine.some((e) => e.node.userId === userId); tries++) {
    mine = (await app.gql(EVENTS, {}, tokens.um)).data.events.edges;
    await pause(100);
  }
  expect(mine.some((e) => e.node.userId === userId)).toBe(true);
  const theirs = await app.gql(EVENTS, {}, tokens.um_other);
  expect(theirs.errors).toBeUndefined();
  expect(theirs.data.events.edges.some((e: { node: { userId?: string } }) => e.node.userId === userId)).toBe(false);
});

describe('database faults over the WebSocket', () => {
  let slow: TestApp;
  let token: string;
  beforeAll(async () => {
    slow = await startTestApp({ database: { statementTimeoutMs: 300 } });
    const other = await createInstitution(slow.db.dataSource);
    ({ um: token } = await loginOperators(slow, other, { um: ['USER_MANAGER', 'INSTITUTION'] }));
  });
  afterAll(() => slow.close());

  test('a replay past the statement timeout ends the subscription with the retryable TIMEOUT, not an internal error', async () => {
    const cursor = Buffer.from(JSON.stringify(['EVENTS', '1', '1'])).toString('base64url');
    const locker = new Client({ connectionString: slow.db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE event_outbox IN ACCESS EXCLUSIVE MODE');
      const sub = subscribe(slow.url, bearer(token), `subscription($after: String) { userChanged(after: $after) { cursor } }`, { after: cursor });
      const { errors } = await sub.ended;
      await sub.dispose();
      expect(errors?.[0].extensions).toMatchObject({ code: 'TIMEOUT', retryable: true });
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
  });
});
