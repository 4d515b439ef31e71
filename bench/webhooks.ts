/**
 * `npm run bench:webhooks` (issue 13 item 6): how fast one instance delivers webhook events to a receiver on the same
 * machine.
 *
 * The real server runs in this process (NODE_ENV=production settings, pool 10) over a fresh database
 * (bench/fresh-database.ts); the receiver is a node:http server in this process that checks every signature and
 * answers 200 at once. Each run:
 *   1. registers webhooks (following USER_UPDATED with the institution's User Manager role), then disables them;
 *   2. changes BENCH_USERS users (default 2,000) in one statement that writes one USER_UPDATED event per user to the
 *      outbox, as updateUser would (the writing is not what is measured);
 *   3. re-enables the webhooks at once and times until the receiver has every event (deliveries per second, from
 *      the re-enabling to the last request), then checks that none was missing or delivered twice and that each
 *      webhook's requests came in stream order.
 * Two shapes: one webhook (one event at a time: the per-webhook order makes it sequential), and BENCH_WEBHOOKS
 * webhooks (default 4) delivered side by side. BENCH_RUNS runs each (default 3); the median is printed.
 */
import 'reflect-metadata';
import crypto from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import { createTokenIssuer } from '../src/auth/tokens';
import { createServer } from '../src/server';
import { openFreshDatabase } from './fresh-database';
import { graphql } from './support/load';

const int = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const USERS = int('BENCH_USERS', 2000);
const RUNS = int('BENCH_RUNS', 3);
const WEBHOOKS = int('BENCH_WEBHOOKS', 4);
const SECRET = crypto.randomBytes(24).toString('hex');

const log = (line: string) => console.log(`[bench:webhooks] ${line}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function seed(db: DataSource): Promise<{ institutionId: string; operatorId: string; userIds: string[] }> {
  const [inst] = await db.query(`INSERT INTO institution (code, name) VALUES ('BENCH', 'Bench University') RETURNING id`);
  const [operator] = await db.query(
    `INSERT INTO app_user (institution_id, record_type, account_type, primary_identifier, first_name, last_name, created_by, updated_by)
     VALUES ($1, 'STAFF', 'INTERNAL', 'bench_admin', 'Bench', 'Admin', 'bench', 'bench') RETURNING id`,
    [inst.id],
  );
  await db.query(`INSERT INTO role_assignment (institution_id, user_id, role_type, scope_type, created_by) VALUES ($1, $2, 'USER_ADMINISTRATOR', 'INSTITUTION', 'bench')`,
    [inst.id, operator.id]);
  const users: { id: string }[] = await db.query(
    `INSERT INTO app_user (institution_id, record_type, account_type, primary_identifier, first_name, last_name, created_by, updated_by)
     SELECT $1, 'PUBLIC', 'INTERNAL', 'patron' || g, 'Pat', 'Patron ' || g, 'bench', 'bench' FROM generate_series(1, $2::int) g RETURNING id`,
    [inst.id, USERS],
  );
  return { institutionId: inst.id, operatorId: operator.id, userIds: users.map((u) => u.id) };
}

/** Every user renamed, with the USER_UPDATED event updateUser writes, in one transaction. */
async function changeEveryUser(db: DataSource, institutionId: string, run: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`UPDATE app_user SET first_name = 'Run' || $2 WHERE institution_id = $1 AND record_type = 'PUBLIC'`, [institutionId, run]);
    await tx.query(
      `INSERT INTO event_outbox (institution_id, event_type, aggregate_type, aggregate_id, payload, actor)
       SELECT $1, 'USER_UPDATED', 'USER', id, jsonb_build_object('changes', jsonb_build_array(jsonb_build_object('field', 'firstName', 'oldValue', 'Pat', 'newValue', 'Run' || $2))), 'bench_admin'
         FROM app_user WHERE institution_id = $1 AND record_type = 'PUBLIC' ORDER BY primary_identifier`,
      [institutionId, run],
    );
  });
}

interface Receiver {
  port: number;
  /** Requests per webhook id, in arrival order: their event cursors. */
  byWebhook: Map<string, string[]>;
  total: number;
  badSignatures: number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = { port: 0, byWebhook: new Map(), total: 0, badSignatures: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const expected = Buffer.from(`sha256=${crypto.createHmac('sha256', SECRET).update(`${req.headers['x-carrel-timestamp']}.${raw}`).digest('hex')}`);
      const given = Buffer.from(String(req.headers['x-carrel-signature']));
      if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) receiver.badSignatures += 1;
      const body = JSON.parse(raw);
      const list = receiver.byWebhook.get(body.webhookId) ?? [];
      list.push(body.event.cursor);
      receiver.byWebhook.set(body.webhookId, list);
      receiver.total += 1;
      res.writeHead(200).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.port = (server.address() as { port: number }).port;
  receiver.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return receiver;
}

async function main(): Promise<void> {
  const { database, dispose } = await openFreshDatabase(log);
  const db = database.dataSource;
  const tokens = createTokenIssuer(crypto.randomBytes(32).toString('hex'), 3600);
  const server = await createServer({ db, tokens, production: true, webhooks: { allowHttp: true } });
  const receiver = await startReceiver();
  try {
    const port = await server.listen(0);
    const { institutionId, operatorId } = await seed(db);
    const token = tokens.sign({ sub: operatorId, sva: 0 }).token;
    const post = (query: string, variables: Record<string, unknown> = {}) => graphql(port, query, variables, token);
    log(`${USERS} users changed per run, ${RUNS} runs per shape; receiver on 127.0.0.1:${receiver.port}`);
    const results: string[] = [];
    let run = 0;
    for (const count of [1, WEBHOOKS]) {
      const rates: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        run += 1;
        await db.query('DELETE FROM webhook');
        const ids: string[] = [];
        for (let i = 0; i < count; i++) {
          const created = await post(`mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { id } }`, { in: {
            url: `http://127.0.0.1:${receiver.port}/hook/${i}`, secret: SECRET, events: ['USER_UPDATED'],
            roles: [{ roleType: 'USER_MANAGER', scope: { type: 'INSTITUTION' } }],
          } });
          ids.push(created.createWebhook.id);
          await post(`mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: false }) { id } }`, { id: ids[i] });
        }
        await changeEveryUser(db, institutionId, run);
        receiver.byWebhook.clear();
        receiver.total = 0;
        const expected = USERS * count;
        const started = performance.now();
        await Promise.all(ids.map((id) => post(`mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: true }) { id } }`, { id })));
        while (receiver.total < expected && performance.now() - started < 600_000) await new Promise((resolve) => setTimeout(resolve, 5));
        const seconds = (performance.now() - started) / 1000;
        await new Promise((resolve) => setTimeout(resolve, 500));
        const perWebhook = ids.map((id) => receiver.byWebhook.get(id) ?? []);
        const duplicates = perWebhook.reduce((n, list) => n + list.length - new Set(list).size, 0);
        // An events cursor is base64url JSON ["EVENTS", xid, id]; all of a run's events share one transaction.
        const idOf = (cursor: string) => BigInt(JSON.parse(Buffer.from(cursor, 'base64url').toString())[2]);
        const ordered = perWebhook.every((list) => list.every((cursor, i) => i === 0 || idOf(cursor) > idOf(list[i - 1])));
        if (receiver.total !== expected || duplicates > 0 || !ordered || receiver.badSignatures > 0) {
          throw new Error(`run ${run}: ${receiver.total} of ${expected} delivered, ${duplicates} duplicated, ordered ${ordered}, bad signatures ${receiver.badSignatures}`);
        }
        rates.push(expected / seconds);
        log(`${count} webhook(s), run ${r + 1}: ${expected} deliveries in ${seconds.toFixed(2)} s = ${(expected / seconds).toFixed(0)}/s`);
      }
      results.push(`${count} webhook(s): median ${median(rates).toFixed(0)} deliveries/s (runs: ${rates.map((x) => x.toFixed(0)).join(', ')})`);
    }
    for (const line of results) log(line);
    log('every event delivered exactly once per webhook, in order, with a valid signature');
  } finally {
    await receiver.close();
    await server.stop();
    await dispose();
  }
}

main().catch((e) => {
  console.error(`[bench:webhooks] failed: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
