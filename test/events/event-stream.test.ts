import { Client } from 'pg';
import { pruneExpiredEvents } from '../../src/events/event-retention';
import { createInstitution, createPatron, createPerson, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { pause, subscribe } from '../support/ws-client';

/**
 * Issue 11 item 3 and 6: the stream a subscriber sees is one order that never changes, resumable from any cursor it
 * was given, with no gap and no duplicate, whatever order transactions commit in; a cursor older than retention is
 * refused.
 */
let app: TestApp;
let inst: InstitutionFixture;
const tokens: Record<string, string> = {};
const db = () => app.db.dataSource;
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

const USER_CHANGED = `subscription($u: ID, $after: String) { userChanged(userId: $u, after: $after) {
  cursor type changes { field oldValue newValue } userId user { id firstName } } }`;
const RENAME = `mutation($id: ID!, $f: String!) { updateUser(id: $id, input: { firstName: $f }) { id } }`;
const EVENTS = `query($after: String, $first: Int, $u: ID) { events(after: $after, first: $first, filter: { userId: $u }) {
  edges { cursor node { type changes { newValue } } } pageInfo { hasNextPage endCursor } } }`;

const rename = async (userId: string, firstName: string) => {
  const res = await app.gql(RENAME, { id: userId, f: firstName }, tokens.um);
  expect(res.errors).toBeUndefined();
};
const newNames = (events: { data?: any }[]) => events.map((e) => e.data.userChanged.changes[0]?.newValue);

/** A subscription to the user's changes, acknowledged and registered (a moment for its first read to pass). */
async function listening(userId: string, query = USER_CHANGED) {
  const sub = subscribe(app.url, bearer(tokens.um), query, { u: userId });
  expect(await sub.acknowledged).toBe(true);
  await pause(100);
  return sub;
}

/**
 * The events query until it holds `count` edges: an event is released once no transaction that started before its
 * own is still running anywhere on the PostgreSQL server (other test files' included), a moment after its commit.
 */
async function eventsPage(variables: Record<string, unknown>, count: number) {
  for (let tries = 0; ; tries++) {
    const res = await app.gql(EVENTS, variables, tokens.um);
    expect(res.errors).toBeUndefined();
    if (res.data.events.edges.length >= count || tries === 50) return res.data.events;
    await pause(100);
  }
}

/** A cursor for "now": the last event of the user so far, read through the events query. */
async function lastCursor(userId: string): Promise<string | null> {
  const res = await app.gql(EVENTS, { u: userId, first: 500 }, tokens.um);
  return res.data.events.pageInfo.endCursor;
}

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  Object.assign(tokens, await loginOperators(app, inst, { um: ['USER_MANAGER', 'INSTITUTION'], ua: ['USER_ADMINISTRATOR', 'INSTITUTION'] }));
});
afterAll(() => app.close());

test('R11.3 disconnect, five changes, reconnect with the last cursor: exactly those five, in order', async () => {
  const userId = await createPatron(db(), inst);
  const first = subscribe(app.url, bearer(tokens.um), USER_CHANGED, { u: userId });
  expect(await first.acknowledged).toBe(true);
  await pause(100);
  await rename(userId, 'Before');
  const [seen] = await first.waitFor(1);
  await first.dispose();
  for (const name of ['One', 'Two', 'Three', 'Four', 'Five']) await rename(userId, name);
  const again = subscribe(app.url, bearer(tokens.um), USER_CHANGED, { u: userId, after: seen.data.userChanged.cursor });
  const events = await again.waitFor(5);
  await pause(300);
  expect(newNames(again.received)).toEqual(['One', 'Two', 'Three', 'Four', 'Five']);
  // Then live, from where the replay ended.
  await rename(userId, 'Six');
  await again.waitFor(6);
  await pause(200);
  expect(newNames(again.received)).toEqual(['One', 'Two', 'Three', 'Four', 'Five', 'Six']);
  const cursors = events.map((e) => e.data.userChanged.cursor);
  expect(new Set(cursors).size).toBe(cursors.length);
  await again.dispose();
});

test('R11.3 an event whose transaction commits after later ones is not lost: the later ones wait for it', async () => {
  const userId = await createPatron(db(), inst);
  const start = await lastCursor(userId);
  const sub = await listening(userId);
  // A transaction takes its outbox id first and stays open while two later changes commit.
  const held = new Client({ connectionString: app.db.url });
  await held.connect();
  try {
    await held.query('BEGIN');
    await held.query(
      `INSERT INTO event_outbox (institution_id, event_type, aggregate_type, aggregate_id, payload, actor)
       VALUES ($1, 'USER_UPDATED', 'USER', $2, $3, 'held')`,
      [inst.id, userId, JSON.stringify({ changes: [{ field: 'firstName', oldValue: null, newValue: 'Held' }] })],
    );
    await rename(userId, 'Later1');
    await rename(userId, 'Later2');
    await pause(300);
    // Nothing is released while an older transaction could still add an event before them.
    expect(sub.received).toEqual([]);
    const polled = await app.gql(EVENTS, { u: userId, after: start }, tokens.um);
    expect(polled.data.events.edges).toEqual([]);
    await held.query('COMMIT');
  } finally {
    await held.end();
  }
  await sub.waitFor(3);
  await pause(200);
  expect(newNames(sub.received)).toEqual(['Held', 'Later1', 'Later2']);
  const polled = await eventsPage({ u: userId, after: start }, 3);
  expect(polled.edges.map((e: any) => e.node.changes[0].newValue)).toEqual(['Held', 'Later1', 'Later2']);
  expect(polled.edges.map((e: any) => e.cursor)).toEqual(sub.received.map((e) => e.data.userChanged.cursor));
  await sub.dispose();
});

test('R11.3 a long transaction that writes no event delays later events, never loses them', async () => {
  const userId = await createPatron(db(), inst);
  const sub = await listening(userId);
  const held = new Client({ connectionString: app.db.url });
  await held.connect();
  try {
    await held.query('BEGIN');
    // Any write takes a transaction id: it holds back every event committed after it started.
    await held.query(`UPDATE institution SET name = name WHERE id = $1`, [inst.id]);
    await rename(userId, 'Waiting');
    await pause(300);
    expect(sub.received).toEqual([]);
    await held.query('COMMIT');
  } finally {
    await held.end();
  }
  // No notification comes from that commit: the hub looks again by itself.
  await sub.waitFor(1, 5000);
  expect(newNames(sub.received)).toEqual(['Waiting']);
  await sub.dispose();
});

test('R11.3 the events query pages through the same events in the same order, and an empty page keeps its cursor', async () => {
  const userId = await createPatron(db(), inst);
  const start = await lastCursor(userId);
  for (const name of ['A', 'B', 'C']) await rename(userId, name);
  await eventsPage({ u: userId, after: start }, 3);
  const page1 = await eventsPage({ u: userId, after: start, first: 2 }, 2);
  expect(page1.edges.map((e: any) => e.node.changes[0].newValue)).toEqual(['A', 'B']);
  expect(page1.pageInfo.hasNextPage).toBe(true);
  const page2 = await eventsPage({ u: userId, after: page1.pageInfo.endCursor, first: 2 }, 1);
  expect(page2.edges.map((e: any) => e.node.changes[0].newValue)).toEqual(['C']);
  const page3 = await app.gql(EVENTS, { u: userId, after: page2.pageInfo.endCursor, first: 2 }, tokens.um);
  expect(page3.data.events).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: page2.pageInfo.endCursor } });
});

test.each([
  ['deleted', `mutation($id: ID!) { deleteUser(id: $id) { deletedUserId } }`, 'USER_DELETED'],
  ['purged', `mutation($id: ID!) { purgeUser(id: $id) { purgedAt } }`, 'USER_PURGED'],
])('R11.3 a %s user comes as its id with the user null', async (_what, mutation, type) => {
  const userId = await createPatron(db(), inst);
  const sub = await listening(userId);
  const res = await app.gql(mutation, { id: userId }, tokens.um);
  expect(res.errors).toBeUndefined();
  const [event] = await sub.waitFor(1);
  expect(event.data.userChanged).toMatchObject({ type, userId, user: null });
  await sub.dispose();
});

test('R9.1 a PIN set by staff reaches subscribers as the fact of a change, never its value', async () => {
  const userId = await createPatron(db(), inst);
  const sub = await listening(userId);
  const res = await app.gql(`mutation($id: ID!) { setUserPin(userId: $id, pin: "4711") { id } }`, { id: userId }, tokens.um);
  expect(res.errors).toBeUndefined();
  const [event] = await sub.waitFor(1);
  expect(event.data.userChanged).toMatchObject({ type: 'USER_PIN_SET', changes: [{ field: 'pinNumber', oldValue: null, newValue: '(changed)' }] });
  expect(JSON.stringify(event)).not.toContain('4711');
  await sub.dispose();
});

test('R11.3 a cursor older than the retention period is refused with CURSOR_EXPIRED, over the query and the subscription', async () => {
  const userId = await createPatron(db(), inst);
  await rename(userId, 'Old');
  const [old] = (await eventsPage({ u: userId, first: 500 }, 1)).edges;
  await rename(userId, 'Newer');
  // Released too, so the pruning below goes past the old event (pruning takes only released events).
  await eventsPage({ u: userId, first: 500 }, 2);
  // Two days on, with a retention of one day, everything written so far is pruned.
  expect(await pruneExpiredEvents(db(), 1, new Date(Date.now() + 2 * 86_400_000))).toBeGreaterThan(0);
  const polled = await app.gql(EVENTS, { after: old.cursor }, tokens.um);
  expect(polled.errors?.[0].extensions).toMatchObject({ code: 'CURSOR_EXPIRED', field: 'after' });
  expect(polled.errors?.[0].message).toMatch(/subscribe .*without a cursor/);
  const sub = subscribe(app.url, bearer(tokens.um), USER_CHANGED, { after: old.cursor });
  const { errors } = await sub.ended;
  expect(errors?.[0].extensions).toMatchObject({ code: 'CURSOR_EXPIRED', field: 'after' });
  await sub.dispose();
  // Without a cursor, the events query starts after the pruned ones.
  const fresh = await app.gql(EVENTS, { u: userId }, tokens.um);
  expect(fresh.errors).toBeUndefined();
  expect(fresh.data.events.edges).toEqual([]);
});

test('a cursor ahead of every event (forged) is BAD_USER_INPUT, not a silent skip', async () => {
  const ahead = Buffer.from(JSON.stringify(['EVENTS', '9000000000000000000', '1'])).toString('base64url');
  const res = await app.gql(EVENTS, { after: ahead }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
});

test('a user id filter that is not an id is BAD_USER_INPUT naming it, over the query and the subscription', async () => {
  const res = await app.gql(EVENTS, { u: 'not-a-user' }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.userId' });
  const sub = subscribe(app.url, bearer(tokens.um), USER_CHANGED, { u: 'not-a-user' });
  const { errors } = await sub.ended;
  await sub.dispose();
  expect(errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
});

test('R9.1 role changes reach roleChanged with the change history records, and the user with its roles as they are now', async () => {
  const userId = await createPerson(db(), inst);
  const sub = await listening(userId, `subscription($u: ID) { roleChanged(userId: $u) {
    type subjectType subjectId changes { field oldValue newValue } user { roles { roleType } } } }`);
  const res = await app.gql(`mutation($u: ID!) { assignRole(userId: $u, input: { roleType: "CATALOGER", scope: { type: INSTITUTION } }) { id } }`, { u: userId }, tokens.ua);
  expect(res.errors).toBeUndefined();
  const [event] = await sub.waitFor(1);
  expect(event.data.roleChanged).toMatchObject({
    type: 'ROLE_ASSIGNED', subjectType: 'USER', subjectId: userId, changes: [{ field: 'roles', oldValue: null, newValue: expect.stringMatching(/CATALOGER/) }],
  });
  expect(event.data.roleChanged.user.roles.map((r: { roleType: string }) => r.roleType).sort()).toEqual(['CATALOGER']);
  await sub.dispose();
});

test.each([
  ['a NUL byte in after', { after: 'abc\u0000def' }, 'after'],
  ['51 event types', { types: Array.from({ length: 51 }, () => 'USER_UPDATED') }, 'types'],
  ['an after longer than 200 characters', { after: 'x'.repeat(201) }, 'after'],
])('%s is refused over the subscription as BAD_USER_INPUT naming the argument', async (_what, variables, field) => {
  const sub = subscribe(app.url, bearer(tokens.um), `subscription($after: String, $types: [EventType!]) { userChanged(after: $after, types: $types) { cursor } }`, variables);
  const { errors } = await sub.ended;
  await sub.dispose();
  expect(errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: expect.stringContaining(field) });
});
