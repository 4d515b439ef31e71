import WebSocket from 'ws';
import { createTokenIssuer } from '../../src/auth/tokens';
import { createServer, CarrelServer } from '../../src/server';
import { SLOW_SUBSCRIBER } from '../../src/server/subscriptions';
import { createInstitution, createPatron, createPerson, InstitutionFixture } from '../support/fixtures';
import { createTestDatabase, TestDatabase } from '../support/test-db';
import { pause, subscribe, wsUrl } from '../support/ws-client';

/**
 * Issue 11 item 7: a slow subscriber never slows the others or the writers; what waits for it is bounded, and past
 * the bound its connection is closed with a reason, after which it can resume from its last cursor.
 */
const BUFFER = 20;
let database: TestDatabase;
let server: CarrelServer;
let url: string;
let inst: InstitutionFixture;
let token: string;

beforeAll(async () => {
  database = await createTestDatabase();
  const tokens = createTokenIssuer('test-secret', 3600);
  server = await createServer({ db: database.dataSource, tokens, production: false, events: { subscriberBuffer: BUFFER } });
  url = `http://127.0.0.1:${await server.listen(0)}/graphql`;
  inst = await createInstitution(database.dataSource);
  const managerId = await createPerson(database.dataSource, inst, { primaryIdentifier: 'um', roles: [['USER_MANAGER', 'INSTITUTION']] });
  token = tokens.sign({ sub: managerId, sva: 0 }).token;
});
afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

const QUERY = `subscription($u: ID) { userChanged(userId: $u) { cursor changes { newValue } } }`;

/**
 * A graphql-ws client that subscribes, takes its first event, then stops reading its socket (a stalled partner)
 * until `resume`: only then can it read what the server sent before closing, and the close frame.
 */
function stalledClient(userId: string) {
  let tcp: { pause(): void; resume(): void } | null = null;
  const closed = new Promise<{ code: number; reason: string }>((resolve, reject) => {
    const socket = new WebSocket(wsUrl(url), 'graphql-transport-ws');
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'connection_ack') socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERY, variables: { u: userId } } }));
      if (message.type === 'next' && !tcp) {
        tcp = (socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
        tcp.pause();
      }
    });
    socket.on('close', (code, reason) => resolve({ code, reason: String(reason) }));
    socket.on('error', reject);
  });
  return { closed, resume: () => tcp?.resume() };
}

/** Five events of about 500 KB each about the user, in one transaction, numbered from `from`. */
async function bigEvents(userId: string, from: number): Promise<void> {
  await database.dataSource.query(
    `INSERT INTO event_outbox (institution_id, event_type, aggregate_type, aggregate_id, payload, actor)
     SELECT $1, 'USER_UPDATED', 'USER', $2, jsonb_build_object('changes', jsonb_build_array(jsonb_build_object('field', 'note', 'newValue', $3 || n))), 'test'
       FROM generate_series($4::int, $4::int + 4) AS n`,
    [inst.id, userId, 'x'.repeat(500_000), from],
  );
}

test('R11.3 a stalled subscriber is cut off with a reason once its bound is passed, while another keeps receiving everything', async () => {
  const userId = await createPatron(database.dataSource, inst);
  const healthy = subscribe(url, { authorization: `Bearer ${token}` }, QUERY, { u: userId });
  expect(await healthy.acknowledged).toBe(true);
  const stalled = stalledClient(userId);
  await pause(300);
  // 30 MB in all: beyond what the kernel buffers for the stalled connection, then beyond its bound of 20 events.
  // The writer goes at the healthy subscriber's pace, so only the stalled one ever has more than 5 waiting.
  const COUNT = 60;
  for (let n = 0; n < COUNT; n += 5) {
    await bigEvents(userId, n);
    await healthy.waitFor(n + 5, 30_000);
  }
  expect(healthy.received.map((e) => e.data.userChanged.changes[0].newValue.slice(500_000))).toEqual(Array.from({ length: COUNT }, (_, i) => String(i)));
  stalled.resume();
  const closed = await stalled.closed;
  expect(closed.code).toBe(SLOW_SUBSCRIBER);
  expect(closed.reason).toMatch(/Too slow: \d+ events waiting; resume with the last cursor/);
  await healthy.dispose();
});
