import { createTokenIssuer } from '../../src/auth/tokens';
import { CarrelProcess, carrelEnv, MAIN_FROM_SOURCE, startCarrel } from '../support/carrel-process';
import { createInstitution, createPatron, createPerson, InstitutionFixture } from '../support/fixtures';
import { createTestDatabase, TestDatabase } from '../support/test-db';
import { postGraphQL } from '../support/test-app';
import { pause, subscribe } from '../support/ws-client';

/**
 * Issue 11 item 4: several Carrel processes share one database. Each reads the outbox once for its own subscribers,
 * woken by NOTIFY; the database, not the notification, is the source of truth.
 */
const SECRET = 'instances-test-secret-of-at-least-32-bytes!!';
const READY_TIMEOUT_MS = 60_000;
jest.setTimeout(120_000);

let database: TestDatabase;
let inst: InstitutionFixture;
let token: string;
const servers: { process: CarrelProcess; url: string }[] = [];

const USER_CHANGED = `subscription($u: ID) { userChanged(userId: $u) { type changes { newValue } user { firstName } } }`;
const RENAME = `mutation($id: ID!, $f: String!) { updateUser(id: $id, input: { firstName: $f }) { id } }`;

const gql = (url: string, query: string, variables: Record<string, unknown>) => postGraphQL(url, query, variables, token);

beforeAll(async () => {
  database = await createTestDatabase();
  inst = await createInstitution(database.dataSource);
  const managerId = await createPerson(database.dataSource, inst, { primaryIdentifier: 'um', roles: [['USER_MANAGER', 'INSTITUTION']] });
  token = createTokenIssuer(SECRET, 3600).sign({ sub: managerId, sva: 0 }).token;
  for (let i = 0; i < 2; i++) {
    const process = startCarrel(MAIN_FROM_SOURCE, carrelEnv({
      DATABASE_URL: database.url, PORT: '0', CARREL_TOKEN_SECRET: SECRET, CARREL_SEED_DEMO: 'false', CARREL_EVENT_POLL_MS: '60000',
    }));
    servers.push({ process, url: `http://127.0.0.1:${await process.waitForEndpoint(READY_TIMEOUT_MS)}/graphql` });
  }
});
afterAll(async () => {
  for (const server of servers) await server.process.kill();
  await database?.drop();
});

test('R11.3 two server processes on one database: a subscriber on one receives a change made through the other', async () => {
  const userId = await createPatron(database.dataSource, inst);
  const [a, b] = servers;
  const onA = subscribe(a.url, { authorization: `Bearer ${token}` }, USER_CHANGED, { u: userId });
  const onB = subscribe(b.url, { authorization: `Bearer ${token}` }, USER_CHANGED, { u: userId });
  expect(await onA.acknowledged).toBe(true);
  expect(await onB.acknowledged).toBe(true);
  await pause(300);
  expect((await gql(b.url, RENAME, { id: userId, f: 'ViaB' })).errors).toBeUndefined();
  const [onAEvent] = await onA.waitFor(1, 5000);
  expect(onAEvent.data.userChanged).toEqual({ type: 'USER_UPDATED', changes: [{ newValue: 'ViaB' }], user: { firstName: 'ViaB' } });
  await onB.waitFor(1, 5000);
  await onA.dispose();
  await onB.dispose();
});

test('R11.3 an instance whose LISTEN connection was cut catches up from the outbox by itself, losing nothing', async () => {
  const userId = await createPatron(database.dataSource, inst);
  const [a, b] = servers;
  const onA = subscribe(a.url, { authorization: `Bearer ${token}` }, USER_CHANGED, { u: userId });
  expect(await onA.acknowledged).toBe(true);
  await pause(300);
  // Every instance's listener is cut (an instance restarting its connection, a network blip, a failover).
  const cut = await database.dataSource.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'carrel-events' AND datname = current_database()`,
  );
  expect(cut.length).toBe(2);
  // Changes made while nobody listens: no notification reaches anyone, and polling is set to once a minute.
  for (const name of ['Cut1', 'Cut2', 'Cut3']) expect((await gql(b.url, RENAME, { id: userId, f: name })).errors).toBeUndefined();
  await onA.waitFor(3, 10_000);
  await pause(300);
  expect(onA.received.map((e) => e.data.userChanged.changes[0].newValue)).toEqual(['Cut1', 'Cut2', 'Cut3']);
  await onA.dispose();
});
