/**
 * `npm run bench:analytics` (issue 14): how long the analytics reads take over 100,000 users and a million fines, for
 * an institution-wide operator and for one scoped to a library, against the 200 ms target of each.
 *
 * The database is a fresh one (bench/fresh-database.ts): the demo institution, generated patrons up to --users
 * (bench/support/seed.ts, the user counters folded), then --fines fines with their ledgers over those patrons
 * (src/seed/bulk-fines.ts, as `npm run seed -- --fines` makes them), the fine totals' deltas folded as the server's
 * job would in time; each seeding time is printed. The real server then runs in this process (NODE_ENV=production
 * settings, pool 10, its periodic jobs off so nothing but the requests runs), and two operators log in over HTTP: the
 * demo `admin` (User Administrator, institution-wide) and `bench_analyst`, created here with Design Analytics scoped
 * to the LAW library (library independence, R5.2: it sees the institution's fines and LAW's).
 *
 * Each query below runs --warmup times (default 2, not timed), then --runs times (default 15) one request at a time,
 * per operator; the table shows the median and p95 of the request times as the client sees them, the rows the answer
 * holds, the SQL statements one request sends and whether the median is within 200 ms. A query that fails is reported
 * as such in the table; the others still run. Then EXPLAIN (ANALYZE, BUFFERS) of the statements one request of each
 * query sends, exactly as the server sent them (their text and parameters, seen through the app's SQL logger:
 * bench/support/sql-capture.ts), the operator's re-read at authentication left out.
 *
 *   1  outstanding fines by owner and fee type          fineTotals(status ACTIVE, groupBy OWNER, FEE_TYPE)
 *   2  fines by status                                  fineTotals(groupBy STATUS)
 *   3  fines by month created                           fineTotals(groupBy MONTH_CREATED)
 *   4  open fines by user group, owner and status       fineTotals(status ACTIVE, IN_DISPUTE; USER_GROUP, OWNER, STATUS)
 *   5  last month's waives by reason                    fineTotals(groupBy WAIVE_REASON, actionFilter last month)
 *   6  payments by method and owner                     fineTotals(groupBy PAYMENT_METHOD, OWNER)
 *   7  the newest fines, first page                     fines(first: 50) with totals
 *   8  the largest outstanding fines                    fines(ACTIVE, by remaining amount DESC)
 *   9  fines of users expiring within 90 days           fines(userExpiresFrom today, userExpiresBefore today + 90)
 *   10 last month's waives, first page                  fineActions(WAIVE, from the first of last month)
 *   11 active patrons by user group and campus          userCounts(PUBLIC, ACTIVE_NOT_EXPIRED; USER_GROUP, CAMPUS)
 *   12 users by role type                               userCounts(groupBy ROLE_TYPE)
 *   13 users by expiry month, account type and activity userCounts(EXPIRY_MONTH, ACCOUNT_TYPE, ACTIVE_NOT_EXPIRED)
 *
 * Options: --users N (100000, demo users included), --fines M (1000000), --runs N (15), --warmup N (2).
 */
import 'reflect-metadata';
import { parseNumericOptions } from './support/options';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { dataSourceOptions } from '../ormconfig';
import { KEPT_FINE_TOTALS } from '../src/analytics/fine-totals.repository';
import { hashPassword } from '../src/auth/password';
import { createTokenIssuer } from '../src/auth/tokens';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/connect';
import { foldDeltas } from '../src/db/delta-fold';
import { openOwnConnection } from '../src/db/own-connection';
import { generateFines } from '../src/seed/bulk-fines';
import { DEMO_INSTITUTION_CODE } from '../src/seed/demo-reference';
import { createProgressBar } from '../src/seed/progress';
import { isoDay } from '../src/seed/values';
import { createServer } from '../src/server';
import { freshDatabase } from './fresh-database';
import { graphql, LOGIN, postRaw } from './support/load';
import { CORES, fmt, loadAverage, median, percentile } from './support/machine';
import { guardRun } from './support/run-guard';
import { seedUsers } from './support/seed';
import { Captured, captureSql, explainText, isWrite } from './support/sql-capture';

const log = (line: string) => console.log(`[bench:analytics] ${line}`);
const quiet = () => {};
const TARGET_MS = 200;
const ANALYST = 'bench_analyst';
const ANALYST_LIBRARY = 'LAW';

// ---------------------------------------------------------------- options

interface Options {
  users: number;
  fines: number;
  runs: number;
  warmup: number;
}

const USAGE = 'usage: npm run bench:analytics -- [--users N] [--fines M] [--runs N] [--warmup N]';

function parseOptions(argv: string[]): Options {
  return parseNumericOptions(argv, USAGE, { users: 100_000, fines: 1_000_000, runs: 15, warmup: 2 }, {
    '--users': { key: 'users', min: 1 },
    '--fines': { key: 'fines', min: 0 },
    '--runs': { key: 'runs', min: 1 },
    '--warmup': { key: 'warmup', min: 0 },
  });
}

// ---------------------------------------------------------------- queries

interface Query {
  label: string;
  query: string;
  variables?: Record<string, unknown>;
  /** What the answer holds: its rows, and for a page the totalCount. */
  rows(data: any): string;
}

/** The first instant of a UTC month, `offset` months from this one. */
function monthStart(now: Date, offset: number): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1)).toISOString();
}

function queries(now: Date): Query[] {
  const lastMonth = monthStart(now, -1);
  const thisMonth = monthStart(now, 0);
  const list = (field: string) => (data: any) => String(data[field].length);
  const page = (field: string) => (data: any) => `${data[field].edges.length} of ${data[field].totalCount}`;
  return [
    { label: '1 ACTIVE by OWNER, FEE_TYPE', rows: list('fineTotals'),
      query: `{ fineTotals(filter: { status: [ACTIVE] }, groupBy: [OWNER, FEE_TYPE]) { owner { institution library { code } } feeType count original remaining } }` },
    { label: '2 by STATUS', rows: list('fineTotals'),
      query: `{ fineTotals(groupBy: [STATUS]) { status count original remaining paid waived } }` },
    { label: '3 by MONTH_CREATED', rows: list('fineTotals'),
      query: `{ fineTotals(groupBy: [MONTH_CREATED]) { monthCreated count original } }` },
    { label: '4 open by USER_GROUP, OWNER, STATUS', rows: list('fineTotals'),
      query: `{ fineTotals(filter: { status: [ACTIVE, IN_DISPUTE] }, groupBy: [USER_GROUP, OWNER, STATUS]) { userGroup owner { institution } status count remaining } }` },
    { label: '5 last month\'s WAIVE_REASON', rows: list('fineTotals'),
      query: `query($from: DateTime!, $before: DateTime!) {
        fineTotals(groupBy: [WAIVE_REASON], actionFilter: { from: $from, before: $before }) { waiveReason count waived } }`,
      variables: { from: lastMonth, before: thisMonth } },
    { label: '6 by PAYMENT_METHOD, OWNER', rows: list('fineTotals'),
      query: `{ fineTotals(groupBy: [PAYMENT_METHOD, OWNER]) { paymentMethod owner { institution } count paid } }` },
    { label: '7 fines, newest first', rows: page('fines'),
      query: `{ fines(first: 50) { totalCount totals { original remaining }
        edges { node { id type remainingAmount createdAt owner { institution } user { primaryIdentifier } } } } }` },
    { label: '8 ACTIVE fines by remaining DESC', rows: page('fines'),
      query: `{ fines(first: 50, filter: { status: [ACTIVE] }, sort: { field: REMAINING_AMOUNT, direction: DESC }) {
        totalCount totals { remaining } edges { node { id remainingAmount } } } }` },
    { label: '9 fines of users expiring in 90 d', rows: page('fines'),
      query: `query($from: Date!, $before: Date!) { fines(first: 50, filter: { userExpiresFrom: $from, userExpiresBefore: $before }) {
        totalCount totals { remaining } edges { node { id } } } }`,
      variables: { from: isoDay(now, 0), before: isoDay(now, 90) } },
    { label: '10 WAIVE actions since last month', rows: page('fineActions'),
      query: `query($from: DateTime!) { fineActions(first: 50, filter: { type: [WAIVE], from: $from }) {
        totalCount totals { waived } edges { node { id reason amount } } } }`,
      variables: { from: lastMonth } },
    { label: '11 users PUBLIC active by GROUP, CAMPUS', rows: list('userCounts'),
      query: `{ userCounts(filter: { recordType: PUBLIC, status: ACTIVE_NOT_EXPIRED }, groupBy: [USER_GROUP, CAMPUS]) { userGroup campus count } }` },
    { label: '12 users by ROLE_TYPE', rows: list('userCounts'),
      query: `{ userCounts(groupBy: [ROLE_TYPE]) { roleType count } }` },
    { label: '13 users by EXPIRY_MONTH, ACCOUNT, ACTIVE', rows: list('userCounts'),
      query: `{ userCounts(groupBy: [EXPIRY_MONTH, ACCOUNT_TYPE, ACTIVE_NOT_EXPIRED]) { expiryMonth accountType activeNotExpired count } }` },
  ];
}

// ---------------------------------------------------------------- seeding

/** Users, then fines over their patrons, the fine totals folded; returns the lines to print. */
async function seed(url: string, opts: Options, password: string, dataDir: string): Promise<string[]> {
  // A job's session limits (no statement timeout): a batch of fines takes seconds.
  const database = await openDatabase({ ...loadConfig(), databaseUrl: url, dbPoolSize: 4 }, quiet, 'job');
  try {
    log(`seeding ${opts.users.toLocaleString('en')} users ...`);
    const users = await seedUsers(database, opts.users, password, dataDir);
    log(users);
    if (opts.fines === 0) return [users];
    log(`seeding ${opts.fines.toLocaleString('en')} fines ...`);
    const bar = createProgressBar(opts.fines, process.stderr, 'fines');
    const fines = await generateFines(database.dataSource, {
      institutionCode: DEMO_INSTITUTION_CODE, count: opts.fines, onProgress: (done) => bar.update(done),
    }).finally(() => bar.finish());
    const t0 = performance.now();
    const client = await openOwnConnection(database.dataSource, 'carrel-bench-fold');
    const folded = { folded: 0, kept: 0 };
    try {
      for (const deltas of KEPT_FINE_TOTALS) {
        const one = await foldDeltas(client, deltas);
        folded.folded += one.folded;
        folded.kept += one.kept;
      }
    } finally {
      await client.end();
    }
    const finesLine = `generated ${fines.inserted.toLocaleString('en')} fines and ${fines.actions.toLocaleString('en')} ledger actions in`
      + ` ${fmt(fines.ms / 1000)} s (${Math.round(fines.inserted / (fines.ms / 1000))} fines/s, VACUUM ANALYZE included); fine and ledger totals folded`
      + ` (${folded.folded.toLocaleString('en')} delta rows into ${folded.kept.toLocaleString('en')}) in ${fmt((performance.now() - t0) / 1000)} s`;
    log(finesLine);
    return [users, finesLine];
  } finally {
    await database.close();
  }
}

/** The operator scoped to one library: a staff user with Design Analytics there, and a password to log in with. */
async function createLibraryAnalyst(db: { query(sql: string, params?: unknown[]): Promise<any> }, password: string): Promise<void> {
  const [{ institution_id: institutionId, library_id: libraryId }] = await db.query(
    `SELECT i.id AS institution_id, l.id AS library_id FROM institution i JOIN library l ON l.institution_id = i.id WHERE i.code = $1 AND l.code = $2`,
    [DEMO_INSTITUTION_CODE, ANALYST_LIBRARY],
  );
  const [user] = await db.query(
    `INSERT INTO app_user (institution_id, record_type, account_type, primary_identifier, first_name, last_name, password_hash, created_by, updated_by)
     VALUES ($1, 'STAFF', 'INTERNAL', $2, 'Bench', 'Analyst', $3, 'bench', 'bench') RETURNING id`,
    [institutionId, ANALYST, await hashPassword(password)],
  );
  await db.query(
    `INSERT INTO role_assignment (institution_id, user_id, role_type, scope_type, scope_library_id, created_by)
     VALUES ($1, $2, 'DESIGN_ANALYTICS', 'LIBRARY', $3, 'bench')`,
    [institutionId, user.id, libraryId],
  );
}

// ---------------------------------------------------------------- measuring

interface Operator {
  name: string;
  token: string;
}

interface Measured {
  query: Query;
  operator: string;
  /** The first failure's message, when the query failed. */
  error?: string;
  times: number[];
  rows: string;
  /** The statements of the request that sent the fewest (the server's timers may add one to another request). */
  sql: Captured[];
  statements: number;
}

/** One request over HTTP: the answer's data, or its first error's message. */
async function ask(port: number, q: Query, token: string): Promise<{ data?: any; error?: string }> {
  const res = await postRaw(port, JSON.stringify({ query: q.query, variables: q.variables ?? {} }), token);
  try {
    const body = JSON.parse(res.body) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
    if (body.errors?.length) return { error: `${body.errors[0].extensions?.code ?? 'ERROR'}: ${body.errors[0].message}` };
    return { data: body.data };
  } catch {
    return { error: `HTTP ${res.status}: ${res.body.slice(0, 200)}` };
  }
}

async function measure(port: number, q: Query, operator: Operator, opts: Options, capture: ReturnType<typeof captureSql>): Promise<Measured> {
  const out: Measured = { query: q, operator: operator.name, times: [], rows: '', sql: [], statements: Infinity };
  for (let i = 0; i < opts.warmup; i++) {
    const r = await ask(port, q, operator.token);
    if (r.error) return { ...out, error: r.error, statements: 0 };
  }
  for (let i = 0; i < opts.runs; i++) {
    const t0 = performance.now();
    const c = await capture.during(() => ask(port, q, operator.token));
    out.times.push(performance.now() - t0);
    if (c.result.error) return { ...out, error: c.result.error, statements: 0 };
    if (i === 0) out.rows = q.rows(c.result.data);
    if (c.statements < out.statements) Object.assign(out, { statements: c.statements, sql: c.sql });
  }
  return out;
}

// ---------------------------------------------------------------- report

function tableLines(results: Measured[]): string[] {
  const width = Math.max(...results.map((r) => r.query.label.length));
  const head = `${'query'.padEnd(width)}  ${'operator'.padEnd(13)}  ${'median ms'.padStart(9)}  ${'p95 ms'.padStart(7)}  ${'rows'.padStart(14)}  SQL/req  within ${TARGET_MS} ms`;
  const lines = [head, '-'.repeat(head.length)];
  for (const r of results) {
    const start = `${r.query.label.padEnd(width)}  ${r.operator.padEnd(13)}`;
    if (r.error) {
      lines.push(`${start}  ERROR ${r.error.slice(0, 140)}`);
      continue;
    }
    const sorted = [...r.times].sort((a, b) => a - b);
    const m = median(r.times);
    lines.push(`${start}  ${fmt(m).padStart(9)}  ${fmt(percentile(sorted, 95)).padStart(7)}  ${r.rows.padStart(14)}  ${String(r.statements).padStart(7)}  ${m <= TARGET_MS ? 'yes' : 'NO'}`);
  }
  return lines;
}

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)} ...` : text);
/** A statement's text on one line, cut: enough to tell which it is. */
const oneLine = (sql: string) => cut(sql.replace(/\s+/g, ' ').trim(), 240);

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const list = queries(new Date());
  // A hard bound: whatever hangs, the database is dropped. Seeding (about 1.5 min per million fines here), then every query
  // for both operators at up to the statement timeout (5 s) per request.
  const guard = guardRun('bench:analytics', 180_000 + opts.users * 1.2 + opts.fines * 0.5 + list.length * 2 * (opts.runs + opts.warmup + 3) * 5_000);
  const machine = `${CORES} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${fmt(os.totalmem() / 2 ** 30)} GB, load average ${loadAverage()}`;
  log(machine);
  const lines: string[] = [];
  try {
    const fresh = await freshDatabase(log);
    guard.cleanup(() => fresh.dispose());
    log(fresh.where);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-bench-data-'));
    guard.cleanup(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const password = crypto.randomBytes(12).toString('hex');
    const seeded = await seed(fresh.url, opts, password, dataDir);

    // The server as in production: a request's session limits (statement timeout), pool 10; no periodic jobs.
    const database = await openDatabase({ ...loadConfig(), databaseUrl: fresh.url, dbPoolSize: 10 }, quiet);
    guard.cleanup(() => database.close());
    const db = database.dataSource;
    await createLibraryAnalyst(db, password);
    const server = await createServer({ db, tokens: createTokenIssuer(crypto.randomBytes(32).toString('hex'), 3600), production: true, jobs: false });
    guard.cleanup(() => server.stop());
    const port = await server.listen(0);
    const login = async (name: string, identifier: string): Promise<Operator> =>
      ({ name, token: (await graphql(port, LOGIN, { i: identifier, p: password })).login.token });
    const operators = [await login('admin', 'admin'), await login(`${ANALYST_LIBRARY} analyst`, ANALYST)];

    // What authentication alone sends (the operator re-read), to tell it apart from the queries' own statements.
    const capture = captureSql();
    const authSql = new Set<string>();
    for (const o of operators) {
      await graphql(port, '{ __typename }', {}, o.token);
      for (const c of (await capture.during(() => graphql(port, '{ __typename }', {}, o.token))).sql) authSql.add(c.query);
    }

    log(`${list.length} queries x ${operators.length} operators, ${opts.warmup} warm-up + ${opts.runs} timed requests each, one at a time`);
    const results: Measured[] = [];
    for (const q of list) {
      for (const o of operators) {
        const r = await measure(port, q, o, opts, capture);
        results.push(r);
        log(r.error ? `${q.label} (${o.name}): ${r.error}` : `${q.label} (${o.name}): median ${fmt(median(r.times))} ms, ${r.rows} rows`);
      }
    }

    // EXPLAIN (ANALYZE, BUFFERS) with the settings Carrel's sessions start with, after the runs (a warm cache, as in use).
    const sessionOptions = (dataSourceOptions(fresh.url).extra as { options?: string } | undefined)?.options ?? '';
    const explainClient = new Client({ connectionString: fresh.url, options: sessionOptions || undefined });
    await explainClient.connect();
    const explainLines = [`EXPLAIN (ANALYZE, BUFFERS) of the statements one request sends, as the server sent them (authentication's left out; session settings: ${sessionOptions || 'PostgreSQL defaults'}):`];
    try {
      for (const r of results.filter((x) => !x.error)) {
        const own = r.sql.filter((s) => !authSql.has(s.query));
        const writes = own.filter((s) => isWrite(s.query)).length;
        explainLines.push('', `== ${r.query.label} (${r.operator}): ${own.length} statement(s)${writes ? `, ${writes} not explained (writes)` : ''}`);
        for (const plan of await explainText(explainClient, own)) {
          // A plan line may carry a whole parameter array (50 user ids): cut, as the statement's text is.
          explainLines.push(`-- ${fmt(plan.executionMs, 2)} ms: ${oneLine(plan.query)}`, ...plan.lines.map((l) => `   ${cut(l, 300)}`));
        }
      }
    } finally {
      await explainClient.end();
    }

    lines.push('', `Carrel analytics bench on ${machine}`);
    lines.push(`database: ${fresh.where}`);
    lines.push(...seeded.map((l) => `seed: ${l}`));
    lines.push(`server: in process, NODE_ENV=production settings, pool 10, periodic jobs off; operators: admin (User Administrator, institution)`
      + ` and ${ANALYST} (Design Analytics, library ${ANALYST_LIBRARY}); ${opts.warmup} warm-up + ${opts.runs} timed requests per query and operator,`
      + ' one at a time; times as the client sees them (HTTP on loopback included)');
    lines.push('');
    lines.push(...tableLines(results));
    lines.push('rows: the rows of a grouping, or "page rows of totalCount". SQL/req: statements one request sends (authentication\'s included).');
    lines.push('', ...explainLines);
    lines.push('', `total time ${fmt((performance.now() - started) / 1000)} s`);
    console.log(lines.join('\n'));
    if (results.some((r) => r.error)) process.exitCode = 1;
  } finally {
    await guard.finish();
  }
}

main().catch((e) => {
  console.error('[bench:analytics] failed:', e instanceof Error ? e.stack : e);
  process.exitCode = 1;
});
