import http from 'node:http';
import { createTokenIssuer } from '../../src/auth/tokens';
import { CarrelServer, createServer } from '../../src/server';
import { createInstitution, createPatron, createPerson } from '../support/fixtures';
import { createTestDatabase, TestDatabase } from '../support/test-db';
import { postGraphQL } from '../support/test-app';

/**
 * Issue 13 item 6: two Carrel instances on one database, both running the delivery worker and both woken by every
 * change. A webhook is delivered by one instance at a time (a lease on its row), so every event reaches the receiver
 * exactly once when the receiver never fails, in order, and never two requests of one webhook at once.
 */
jest.setTimeout(60_000);

const SECRET = 'a partner secret of 32 characters';
let database: TestDatabase;
const servers: { server: CarrelServer; url: string }[] = [];
let token: string;
let patrons: string[];

beforeAll(async () => {
  database = await createTestDatabase();
  const tokens = createTokenIssuer('instances-secret', 3600);
  for (let i = 0; i < 2; i++) {
    const server = await createServer({
      db: database.dataSource, tokens, production: false,
      webhooks: { allowHttp: true, retryBaseMs: 50, retryMaxMs: 200, pollMs: 100, timeoutMs: 2000 },
    });
    servers.push({ server, url: `http://127.0.0.1:${await server.listen(0)}/graphql` });
  }
  const inst = await createInstitution(database.dataSource);
  const adminId = await createPerson(database.dataSource, inst, { primaryIdentifier: 'ua', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  token = tokens.sign({ sub: adminId, sva: 0 }).token;
  patrons = await Promise.all([0, 1, 2, 3].map(() => createPatron(database.dataSource, inst)));
});
afterAll(async () => {
  for (const { server } of servers) await server.stop();
  await database?.drop();
});

const gql = (url: string, query: string, variables: Record<string, unknown>) => postGraphQL(url, query, variables, token);

test('two instances on one database deliver each event once per webhook, in stream order, one request at a time', async () => {
  // A receiver that takes 15 ms to answer and counts the requests in flight, so that overlapping ones would show.
  const received: any[] = [];
  let open = 0;
  let mostOpen = 0;
  const slow = http.createServer((req, res) => {
    open += 1;
    mostOpen = Math.max(mostOpen, open);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => setTimeout(() => {
      open -= 1;
      received.push(JSON.parse(Buffer.concat(chunks).toString()));
      res.writeHead(200).end();
    }, 15));
  });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(slow.address() as { port: number }).port}/hook`;
  const created = await gql(servers[0].url, `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { id } }`,
    { in: { url, secret: SECRET, roles: [{ roleType: 'USER_MANAGER', scope: { type: 'INSTITUTION' } }], events: ['USER_UPDATED'] } });
  expect(created.errors).toBeUndefined();
  const hookId = created.data.createWebhook.id;
  // 24 changes through both instances, four at a time.
  const CHANGES = 24;
  for (let i = 0; i < CHANGES; i += 4) {
    const batch = [0, 1, 2, 3].map((j) => gql(servers[(i + j) % 2].url, `mutation($id: ID!, $f: String!) { updateUser(id: $id, input: { firstName: $f }) { id } }`,
      { id: patrons[j], f: `Change${i + j}` }));
    for (const res of await Promise.all(batch)) expect(res.errors).toBeUndefined();
  }
  for (const deadline = Date.now() + 20_000; received.length < CHANGES && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 100));
  // Anything sent twice would arrive in this time.
  await new Promise((r) => setTimeout(r, 800));
  slow.closeAllConnections();
  slow.close();
  expect(received).toHaveLength(CHANGES);
  expect(new Set(received.map((body) => body.id)).size).toBe(CHANGES);
  expect(mostOpen).toBe(1);
  // In stream order: the order of the events query.
  const events = await gql(servers[1].url, `{ events(first: 100, filter: { types: [USER_UPDATED] }) { edges { node { cursor } } } }`, {});
  expect(received.map((body) => body.event.cursor)).toEqual(events.data.events.edges.map((e: any) => e.node.cursor));
  // The log agrees: every event delivered once, at its first attempt.
  const [log] = await database.dataSource.query(
    `SELECT count(*)::int AS n, count(DISTINCT delivery_id)::int AS d, max(attempt) AS a FROM webhook_delivery WHERE webhook_id = $1`, [hookId]);
  expect(log).toEqual({ n: CHANGES, d: CHANGES, a: 1 });
});
