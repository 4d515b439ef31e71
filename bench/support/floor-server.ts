/**
 * The floor of `npm run bench`: the least a server can do to answer the bench's requests with the same data, so
 * Carrel's throughput can be quoted as a ratio to it rather than in req/s that vary from machine to machine.
 * node:http and a pg Pool, no GraphQL, no express, no authentication: read the POST body, find the scenario by its
 * exact query text, run its one prepared statement (which builds the whole response as JSON text in PostgreSQL) and
 * write that text unchanged. Started by the bench like Carrel (bench/support/server-child.ts: NODE_ENV=production,
 * pinned to core 0), from DATABASE_URL, PORT, CARREL_DB_POOL_SIZE, CARREL_FLOOR_INSTITUTION_ID and CARREL_FLOOR_PG_OPTIONS.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { FLOOR_STATEMENTS } from './floor-queries';

const started = performance.now();
const institutionId = process.env.CARREL_FLOOR_INSTITUTION_ID;
if (!process.env.DATABASE_URL || !institutionId) {
  console.error('floor: DATABASE_URL and CARREL_FLOOR_INSTITUTION_ID are required');
  process.exit(2);
}
// CARREL_FLOOR_PG_OPTIONS: the start-up options of Carrel's sessions (planner costs), so the two are planned alike.
const pool = new Pool({
  connectionString: process.env.DATABASE_URL, max: Number(process.env.CARREL_DB_POOL_SIZE ?? 10), options: process.env.CARREL_FLOOR_PG_OPTIONS || undefined,
});
// An idle connection that fails (the database dropped at the end of a run) must not crash the process with an unhandled 'error'.
pool.on('error', (e) => console.error('floor: idle connection:', e.message));
const byQuery = new Map(FLOOR_STATEMENTS.map((s) => [s.query, s]));

function reply(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const failure = (message: string) => JSON.stringify({ errors: [{ message }] });

async function answer(raw: Buffer, res: http.ServerResponse): Promise<void> {
  let request: { query?: string; variables?: Record<string, unknown> };
  try {
    request = JSON.parse(raw.toString('utf8'));
  } catch {
    return reply(res, 400, failure('the body is not JSON'));
  }
  const statement = byQuery.get(request.query ?? '');
  if (!statement) return reply(res, 400, failure('the floor answers only the bench scenarios'));
  try {
    const { rows } = await pool.query({
      name: statement.name, text: statement.text, values: statement.values(institutionId!, request.variables ?? {}), rowMode: 'array',
    });
    reply(res, 200, rows[0][0] as string);
  } catch (e) {
    reply(res, 500, failure(e instanceof Error ? e.message : String(e)));
  }
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/graphql') return reply(res, 404, failure('POST /graphql only'));
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => void answer(Buffer.concat(chunks), res));
});

async function main(): Promise<void> {
  // Fail at start, not on the first request, when the database does not answer.
  await pool.query('SELECT 1');
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    // The line bench/support/server-child.ts waits for, as Carrel prints it.
    console.log(`floor ready in ${Math.round(performance.now() - started)} ms at http://localhost:${port}/graphql`);
  });
}

process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void pool.end().finally(() => process.exit(0));
});

main().catch((e) => {
  console.error('floor: failed to start:', e instanceof Error ? e.message : e);
  process.exit(1);
});
