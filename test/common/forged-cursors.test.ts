import { isObjectType } from 'graphql';
import { buildSchema } from '../../src/schema';
import { createInstitution, createPerson, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { subscribe } from '../support/ws-client';

/**
 * Issue 9 finding 9: every paginated field takes its `after` cursor through the one codec (src/common/cursor.ts), so a
 * forged, garbled or foreign cursor is BAD_USER_INPUT naming `after`, never a database error (a date-ordered users
 * page with the key "x" reached SQL as CAST('x' AS date): INTERNAL_SERVER_ERROR, with the SQL text in development).
 */
let app: TestApp;
let token: string;
let userId: string;
let webhookId: string;

beforeAll(async () => {
  app = await startTestApp();
  const inst = await createInstitution(app.db.dataSource);
  userId = await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'cursormgr', roles: [['USER_MANAGER', 'INSTITUTION'], ['USER_ADMINISTRATOR', 'INSTITUTION']] });
  // A webhook without roles (it receives nothing), so that its delivery log has a list to page.
  [{ id: webhookId }] = await app.db.dataSource.query(
    `INSERT INTO webhook (institution_id, url, secret, cursor_xid, cursor_id, created_by) VALUES ($1, 'https://example.invalid/hook', 'sixteen chars ok', '0', 0, 'test') RETURNING id`,
    [inst.id],
  );
  token = await app.login('cursormgr', PASSWORD);
});
afterAll(() => app.close());

const forge = (...parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
const ID = '3434d5c9-37a2-4da4-8032-f08ba9b461ad';

/** Each paginated field (`Type.field`), the request that pages it, and a cursor of its own kind to start from. */
const PAGED: Record<string, { query: string; vars?: Record<string, unknown> }> = {
  'Query.users': { query: `query($after: String, $sort: UserSort) { users(first: 2, after: $after, sort: $sort) { totalCount } }` },
  'User.history': { query: `query($id: ID!, $after: String) { user(id: $id) { history(first: 2, after: $after) { totalCount } } }` },
  'Query.permissionHistory': { query: `query($after: String) { permissionHistory(first: 2, after: $after) { totalCount } }` },
  'Query.userHistory': { query: `query($id: ID!, $after: String) { userHistory(userId: $id, first: 2, after: $after) { totalCount } }` },
  'Query.events': { query: `query($after: String) { events(first: 2, after: $after) { pageInfo { endCursor } } }` },
  'Query.bursarExportBatches': { query: `query($after: String) { bursarExportBatches(first: 2, after: $after) { pageInfo { endCursor } } }` },
  'Webhook.deliveries': { query: `query($webhook: ID!, $after: String) { webhook(id: $webhook) { deliveries(first: 2, after: $after) { pageInfo { endCursor } } } }` },
  'Query.fines': { query: `query($after: String, $fineSort: FineSort) { fines(first: 2, after: $after, sort: $fineSort) { totalCount } }` },
  'Query.fineActions': { query: `query($after: String) { fineActions(first: 2, after: $after) { totalCount } }` },
};

/** Subscription fields that take `after`: refused the same way, over graphql-ws, before any event is sent. */
const SUBSCRIBED: Record<string, string> = {
  'Subscription.userChanged': `subscription($after: String) { userChanged(after: $after) { cursor } }`,
  'Subscription.fineChanged': `subscription($after: String) { fineChanged(after: $after) { cursor } }`,
  'Subscription.blockOrNoteChanged': `subscription($after: String) { blockOrNoteChanged(after: $after) { cursor } }`,
  'Subscription.roleChanged': `subscription($after: String) { roleChanged(after: $after) { cursor } }`,
};

/** Cursors no page of this API returned, for any field. */
const FORGED: [string, string][] = [
  ['garbage', 'not a cursor!'],
  ['the old history format h:<id>', Buffer.from('h:1').toString('base64url')],
  ['a users cursor of another sort order', forge('PRIMARY_IDENTIFIER:ASC', 'x', ID)],
  ['a history cursor with a 20-digit id', forge('USER_HISTORY', null, '99999999999999999999')],
  ['a permission history cursor with a key', forge('PERMISSION_HISTORY', 'x', '1')],
  ['a cursor with a NUL in its key', forge('NAME:ASC', 'a\u0000', ID)],
  ['an events cursor with a negative transaction id', forge('EVENTS', '-1', '1')],
  ['an events cursor with a transaction id beyond 64 bits', forge('EVENTS', '18446744073709551616', '1')],
];

test('the forged-cursor cases cover every field of the schema that takes `after`', () => {
  const schema = buildSchema();
  const paged = Object.values(schema.getTypeMap()).filter(isObjectType).flatMap((type) =>
    Object.values(type.getFields()).filter((f) => f.args.some((a) => a.name === 'after')).map((f) => `${type.name}.${f.name}`),
  );
  expect(paged.sort()).toEqual([...Object.keys(PAGED), ...Object.keys(SUBSCRIBED)].sort());
});

describe.each(Object.entries(SUBSCRIBED))('%s', (_field, query) => {
  test.each(FORGED)('Issue 9 finding 9: %s as `after` is BAD_USER_INPUT naming after', async (_what, after) => {
    const sub = subscribe(app.url, { authorization: `Bearer ${token}` }, query, { after });
    const { errors } = await sub.ended;
    await sub.dispose();
    expect(errors).toHaveLength(1);
    expect(errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});

describe.each(Object.entries(PAGED))('%s', (_field, { query }) => {
  test.each(FORGED)('Issue 9 finding 9: %s as `after` is BAD_USER_INPUT naming after', async (_what, after) => {
    const res = await app.gql(query, { after, id: userId, webhook: webhookId }, token);
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    expect(res.errors![0].message).not.toMatch(/SELECT|CAST|syntax/i);
  });
});

test.each([
  ['the key "x" under the expiry date order', { field: 'EXPIRY_DATE', direction: 'ASC' }, forge('EXPIRY_DATE:ASC', 'x', ID)],
  ['a day that does not exist under the expiry date order', { field: 'EXPIRY_DATE', direction: 'DESC' }, forge('EXPIRY_DATE:DESC', '2024-13-01', ID)],
  ['a users cursor under the name order with a key that is not text', { field: 'NAME', direction: 'ASC' }, forge('NAME:ASC', { a: 1 }, ID)],
])('Issue 9 finding 9: users with %s is BAD_USER_INPUT naming after, not a database error', async (_what, sort, after) => {
  const res = await app.gql(PAGED['Query.users'].query, { after, sort }, token);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
});

test.each([
  ['an instant without microseconds under the creation order', { field: 'CREATED_AT', direction: 'DESC' }, forge('fines:CREATED_AT:DESC', '2026-11-30T08:00:00Z', ID)],
  ['a day that does not exist under the status date order', { field: 'STATUS_DATE', direction: 'ASC' }, forge('fines:STATUS_DATE:ASC', '2026-02-30T08:00:00.000000Z', ID)],
  ['an amount with three decimals under the amount order', { field: 'ORIGINAL_AMOUNT', direction: 'ASC' }, forge('fines:ORIGINAL_AMOUNT:ASC', '1.005', ID)],
  ['an amount of 13 digits under the remaining order', { field: 'REMAINING_AMOUNT', direction: 'DESC' }, forge('fines:REMAINING_AMOUNT:DESC', '1234567890123.00', ID)],
])('Issue 14: fines with %s is BAD_USER_INPUT naming after, not a database error', async (_what, fineSort, after) => {
  const res = await app.gql(PAGED['Query.fines'].query, { after, fineSort }, token);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
});

test('a real cursor of each order still pages on: users by expiry date, then history', async () => {
  const sort = { field: 'EXPIRY_DATE', direction: 'ASC' };
  const first = await app.gql(`query($sort: UserSort) { users(first: 1, sort: $sort) { pageInfo { endCursor } } }`, { sort }, token);
  const next = await app.gql(PAGED['Query.users'].query, { after: first.data.users.pageInfo.endCursor, sort }, token);
  expect(next.errors).toBeUndefined();
  // A cursor of the users list is refused by a history list, and the other way round.
  const crossed = await app.gql(PAGED['User.history'].query, { id: userId, after: first.data.users.pageInfo.endCursor }, token);
  expect(crossed.errors?.[0].message).toMatch(/another list or sort order \(EXPIRY_DATE:ASC\)/);
});
