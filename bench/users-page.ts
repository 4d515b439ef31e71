/**
 * `npm run bench`: throughput and latency of the staff list page and of a
 * point lookup, with 100,000 users, against the real server started as a
 * child process (`node src/main.ts` through the swc register hook,
 * NODE_ENV=production) pinned to core 0 with `taskset`, while this process
 * (the load generator) and the database's backends run on the other cores.
 *
 * Scenarios, each warmed up, then measured for a fixed time with 10 keep-alive
 * connections, twice (the table shows the median of the runs, and each run):
 *   1. list page: users(first: 50, filter: { recordType: PUBLIC }) with identifiers, roles, blocks, fine summary
 *   2. point lookup: userByIdentifier(value) with identifiers and roles, a different existing primary identifier per request
 *   3. the list page filtered by name "an"
 *   4. the list page with hasActiveBlock: true, sorted by expiry date
 * It also reports the SQL statements one request of each scenario sends
 * (counted with sqlStatementCount() around one request to an in-process
 * server on the same database), EXPLAIN (ANALYZE, BUFFERS) of the statements
 * that read app_user, exactly as the server sent them, and the CPU the server
 * process and this database's PostgreSQL backends used during each run.
 *
 * The load generator is plain node:http (no dependency): closed loop, each of
 * the connections sends its next request when the previous response has been
 * read in full, and every response is checked (HTTP 200, no GraphQL errors).
 *
 * The database: a new one on the server of BENCH_ADMIN_URL, else of
 * DATABASE_URL, else postgres://postgres@127.0.0.1:5432, dropped at the end;
 * when none answers, an embedded PostgreSQL in a temporary folder.
 *
 * Options: --users N (100000, demo users included), --duration S (10),
 * --warmup S (3), --runs N (2), --connections N (10), --profile[=SCENARIO]
 * (afterwards, one more run of the list page, or of list|lookup|name|blocked,
 * against a second child started with --cpu-prof, and the functions with the
 * most self time during that run), --dist (run dist/src/main.js, built by
 * `npm run build`, instead of src/main.ts through the swc hook).
 */
import 'reflect-metadata';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { createTokenIssuer } from '../src/auth/tokens';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/connect';
import { sqlLogger, sqlStatementCount } from '../src/db/sql-logger';
import { createServer } from '../src/server';
import { freshDatabase } from './fresh-database';
import { graphql, LOGIN, RunResult, runLoad } from './support/load';
import { CORES, describePinning, fmt, loadAverage, median, PIN_SERVER, pinSelfOffServerCore } from './support/machine';
import { DIST_ENTRY, SOURCE_ENTRY, startChild } from './support/server-child';
import { seedUsers } from './support/seed';
import { summariseProfile } from './support/cpu-profile';
import { guardRun } from './support/run-guard';

const ROOT = path.resolve(__dirname, '..');
const log = (line: string) => console.log(`[bench] ${line}`);
const quiet = () => {};
let serverEntry = SOURCE_ENTRY;

// ---------------------------------------------------------------- options

interface Options {
  users: number;
  durationS: number;
  warmupS: number;
  runs: number;
  connections: number;
  /** The key of the scenario to profile, or null. */
  profile: string | null;
  /** Run the compiled server (dist/src/main.js, `npm run build` first) instead of src/main.ts through the swc hook. */
  dist: boolean;
}

const USAGE = `usage: npm run bench -- [--users N] [--duration S] [--warmup S] [--runs N] [--connections N] [--profile[=list|lookup|name|blocked]] [--dist]`;

function parseOptions(argv: string[]): Options {
  const o: Options = { users: 100_000, durationS: 10, warmupS: 3, runs: 2, connections: 10, profile: null, dist: false };
  const numeric: Record<string, keyof Options> = {
    '--users': 'users', '--duration': 'durationS', '--warmup': 'warmupS', '--runs': 'runs', '--connections': 'connections',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.split('=', 2);
    if (flag === '--profile' && (inline === undefined || ['list', 'lookup', 'name', 'blocked'].includes(inline))) {
      o.profile = inline ?? 'list';
      continue;
    }
    if (flag === '--dist') {
      o.dist = true;
      continue;
    }
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    const key = numeric[flag];
    const value = Number(inline ?? argv[++i]);
    if (!key || !Number.isFinite(value) || value < (key === 'warmupS' ? 0 : 1)) {
      console.error(`bad argument "${arg}"\n${USAGE}`);
      process.exit(2);
    }
    (o[key] as number) = key === 'durationS' || key === 'warmupS' ? value : Math.floor(value);
  }
  return o;
}

// ---------------------------------------------------------------- scenarios

const ROW = `id displayName primaryIdentifier userGroup expiryDate identifiers { type value }
  roles { roleType scope { type library { code } } } blocks { type } hasActiveBlock
  fineSummary { activeBalance disputedBalance exceedsDebtLimit }`;
const listPage = (args: string) => `query { users(${args}) { totalCount edges { node { ${ROW} } } } }`;
const LOOKUP = `query($v: String!) { userByIdentifier(value: $v) { id displayName identifiers { type value } roles { roleType } } }`;

interface Scenario {
  key: string;
  label: string;
  bodies: string[];
  /** Checks the first response, returns a note on what came back. */
  check(data: any): string;
}

function scenarios(identifiers: string[]): Scenario[] {
  const fixed = (query: string) => [JSON.stringify({ query })];
  const page = (expected: 'full' | 'any') => (data: any) => {
    const rows = data.users.edges.length;
    if (expected === 'full' && rows !== 50) throw new Error(`expected 50 rows, got ${rows}`);
    if (rows === 0) throw new Error('the page is empty');
    return `${rows} rows of totalCount ${data.users.totalCount}`;
  };
  return [
    { key: 'list', label: '1 list page (first: 50, PUBLIC)', bodies: fixed(listPage('first: 50, filter: { recordType: PUBLIC }')), check: page('full') },
    {
      key: 'lookup',
      label: '2 point lookup (userByIdentifier)',
      bodies: identifiers.map((v) => JSON.stringify({ query: LOOKUP, variables: { v } })),
      check: (data) => {
        if (!data.userByIdentifier) throw new Error('userByIdentifier found nobody');
        return `${identifiers.length} identifiers, round robin`;
      },
    },
    { key: 'name', label: '3 list page, name: "an"', bodies: fixed(listPage('first: 50, filter: { recordType: PUBLIC, name: "an" }')), check: page('full') },
    {
      key: 'blocked',
      label: '4 list page, hasActiveBlock, by expiry',
      bodies: fixed(listPage('first: 50, filter: { recordType: PUBLIC, hasActiveBlock: true }, sort: { field: EXPIRY_DATE, direction: ASC }')),
      check: page('full'),
    },
  ];
}

// ---------------------------------------------------------------- SQL per request and EXPLAIN

interface Captured {
  query: string;
  parameters: unknown[];
}

/** Wraps the app's SQL logger (it still counts) to see the statements of one request. */
function captureSql(): { during<T>(work: () => Promise<T>): Promise<{ result: T; statements: number; sql: Captured[] }> } {
  const original = sqlLogger.logQuery.bind(sqlLogger);
  let sink: Captured[] | null = null;
  sqlLogger.logQuery = (query, parameters, queryRunner) => {
    sink?.push({ query, parameters: parameters ?? [] });
    original(query, parameters, queryRunner);
  };
  return {
    async during(work) {
      sink = [];
      const before = sqlStatementCount();
      try {
        const result = await work();
        return { result, statements: sqlStatementCount() - before, sql: sink };
      } finally {
        sink = null;
      }
    },
  };
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Parent Relationship'?: string;
  Plans?: PlanNode[];
}

/** "Limit > Index Scan app_user_sort_name_idx [> SubPlan: Index Scan user_block_user_idx]" */
function describePlan(node: PlanNode): string {
  const self = node['Node Type'] + (node['Index Name'] ? ` ${node['Index Name']}` : node['Relation Name'] ? ` ${node['Relation Name']}` : '');
  const children = (node.Plans ?? []).map((c) => (c['Parent Relationship'] === 'SubPlan' || c['Parent Relationship'] === 'InitPlan' ? `${c['Parent Relationship']}: ` : '') + describePlan(c));
  if (children.length === 0) return self;
  if (children.length === 1) return `${self} > ${children[0]}`;
  return `${self} > [${children.join(' | ')}]`;
}

/** A short name for a statement: the tables it reads. */
function tablesOf(sql: string): string {
  const tables = [...sql.matchAll(/\b(?:FROM|JOIN)\s+"?([a-z_]+)"?/gi)].map((m) => m[1]).filter((t) => t.toLowerCase() !== 'select');
  return [...new Set(tables)].join('+') || sql.slice(0, 40);
}

interface Explained {
  tables: string;
  kind: string;
  plan: string;
  executionMs: number;
  planningMs: number;
  sharedHit: number;
  sharedRead: number;
}

async function explainAll(client: Client, sql: Captured[]): Promise<Explained[]> {
  const out: Explained[] = [];
  for (const s of sql) {
    // Only reads: EXPLAIN ANALYZE runs the statement.
    if (!/^\s*(SELECT|WITH)\b/i.test(s.query) || /\bFOR\s+(UPDATE|SHARE|NO KEY UPDATE)\b/i.test(s.query)) continue;
    const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${s.query}`, s.parameters as unknown[]);
    const [result] = rows[0]['QUERY PLAN'];
    const plan = result.Plan as PlanNode & { 'Shared Hit Blocks': number; 'Shared Read Blocks': number };
    out.push({
      tables: tablesOf(s.query),
      kind: /COUNT\(/i.test(s.query) ? 'count' : /\bLIMIT\b/i.test(s.query) ? 'page' : 'rows',
      plan: describePlan(plan),
      executionMs: result['Execution Time'],
      planningMs: result['Planning Time'],
      sharedHit: plan['Shared Hit Blocks'],
      sharedRead: plan['Shared Read Blocks'],
    });
  }
  return out;
}


// ---------------------------------------------------------------- main

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.dist) {
    if (!fs.existsSync(path.join(ROOT, 'dist/src/main.js'))) throw new Error('--dist: dist/src/main.js is missing, run `npm run build` first');
    serverEntry = DIST_ENTRY;
  }
  const started = performance.now();
  // A hard bound: whatever hangs, the child is killed and the database dropped.
  const budgetMs = 120_000 + opts.users * 1.2 + 4 * opts.runs * (opts.durationS + opts.warmupS) * 1000 * 1.5 + (opts.profile ? 90_000 : 0);
  const guard = guardRun('bench', budgetMs);

  pinSelfOffServerCore();
  log(`${CORES} cores; ${describePinning()}; load average ${loadAverage()}`);

  const lines: string[] = [];
  try {
    const fresh = await freshDatabase(log);
    guard.cleanup(() => fresh.dispose());
    log(fresh.where);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-bench-data-'));
    guard.cleanup(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const password = crypto.randomBytes(12).toString('hex');
    const tokenSecret = crypto.randomBytes(32).toString('hex');

    const database = await openDatabase({ ...loadConfig(), databaseUrl: fresh.url, dbPoolSize: 10 }, quiet);
    guard.cleanup(() => database.close());
    const seeded = await seedUsers(database, opts.users, password, dataDir);
    log(seeded);
    const db = database.dataSource;
    const identifiers: string[] = (
      await db.query(`SELECT primary_identifier AS v FROM app_user WHERE record_type = 'PUBLIC' AND primary_identifier IS NOT NULL ORDER BY md5(id::text) LIMIT 2000`)
    ).map((r: { v: string }) => r.v);
    const list = scenarios(identifiers);

    // SQL statements of one request per scenario, on an in-process server over the same database.
    const capture = captureSql();
    const inProcess = await createServer({ db, tokens: createTokenIssuer(tokenSecret, 3600), production: true });
    const localPort = await inProcess.listen(0);
    const localToken: string = (await graphql(localPort, LOGIN, { i: 'admin', p: password })).login.token;
    const perRequest = new Map<string, { statements: number; sql: Captured[]; note: string; kb: number }>();
    for (const s of list) {
      const body = JSON.parse(s.bodies[0]) as { query: string; variables?: Record<string, unknown> };
      // Twice: the first request of a kind may warm caches; count the second.
      await graphql(localPort, body.query, body.variables, localToken);
      const { result, statements, sql } = await capture.during(() => graphql(localPort, body.query, body.variables, localToken));
      perRequest.set(s.key, { statements, sql, note: s.check(result), kb: Buffer.byteLength(JSON.stringify({ data: result })) / 1024 });
    }
    await inProcess.stop();

    // The server under test.
    // No request budget: this bench measures how fast the server answers one client, which a budget would cap at
    // about 16 list pages a second (README, Request budgets); npm run bench:abuse measures the budgets.
    const childEnv = { DATABASE_URL: fresh.url, CARREL_ADMIN_PASSWORD: password, CARREL_DATA_DIR: dataDir, CARREL_TOKEN_SECRET: tokenSecret, CARREL_BUDGET_PER_SECOND: '0' };
    const child = await startChild(serverEntry, childEnv);
    guard.cleanup(() => child.stop());
    const token: string = (await graphql(child.port, LOGIN, { i: 'admin', p: password })).login.token;
    log(`server pid ${child.pid} on port ${child.port}; ${opts.connections} connections, ${opts.warmupS} s warm-up + ${opts.durationS} s measured, ${opts.runs} runs per scenario`);

    const results = new Map<string, RunResult[]>(list.map((s) => [s.key, []]));
    for (let run = 1; run <= opts.runs; run++) {
      for (const s of list) {
        if (opts.warmupS > 0) await runLoad({ port: child.port, token, bodies: s.bodies, seconds: opts.warmupS, connections: opts.connections, watch: { pid: child.pid, pgDatabase: fresh.name } });
        const r = await runLoad({ port: child.port, token, bodies: s.bodies, seconds: opts.durationS, connections: opts.connections, watch: { pid: child.pid, pgDatabase: fresh.name } });
        if (r.failures > 0) throw new Error(`${s.label}: ${r.failures} failed responses, first: ${r.firstFailure}`);
        results.get(s.key)!.push(r);
        log(`run ${run} ${s.label}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, server CPU ${fmt(100 * r.serverCpu, 0)}%, its PostgreSQL backends ${r.pgCpu === null ? '-' : fmt(100 * r.pgCpu, 0) + '%'}, other processes ${fmt(100 * r.othersCpu, 0)}% (load ${loadAverage()})`);
      }
    }
    const loadAfter = loadAverage();

    // EXPLAIN (ANALYZE, BUFFERS) of the statements the server sent, after the runs (warm cache, as under load).
    const explainClient = new Client({ connectionString: fresh.url });
    await explainClient.connect();
    const explained = new Map<string, Explained[]>();
    try {
      for (const s of list) explained.set(s.key, await explainAll(explainClient, perRequest.get(s.key)!.sql));
    } finally {
      await explainClient.end();
    }

    let profileLines: string[] = [];
    if (opts.profile) {
      await child.stop();
      const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-bench-prof-'));
      guard.cleanup(async () => fs.rmSync(profDir, { recursive: true, force: true }));
      const profiled = await startChild(
        serverEntry,
        childEnv,
        ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
      );
      guard.cleanup(() => profiled.stop());
      const s = list.find((x) => x.key === opts.profile)!;
      await runLoad({ port: profiled.port, token, bodies: s.bodies, seconds: Math.max(opts.warmupS, 3), connections: opts.connections, watch: { pid: profiled.pid, pgDatabase: fresh.name } });
      const from = monotonicUs();
      const r = await runLoad({ port: profiled.port, token, bodies: s.bodies, seconds: opts.durationS, connections: opts.connections, watch: { pid: profiled.pid, pgDatabase: fresh.name } });
      const to = monotonicUs();
      await profiled.stop();
      const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
      profileLines = [
        `CPU profile of the server (--cpu-prof) during one ${opts.durationS} s run of ${s.label}: ${fmt(r.rps)} req/s under the profiler, server CPU ${fmt(100 * r.serverCpu, 0)}%`,
        ...(file ? summariseProfile(path.join(profDir, file), from, to) : ['  no .cpuprofile was written']),
      ];
    }

    // ------------------------------------------------------------ report
    const pad = (s: string, n: number) => s.padEnd(n);
    const lpad = (s: string, n: number) => s.padStart(n);
    lines.push('');
    lines.push(`Carrel users page bench: ${seeded.replace(/^seeded /, '')}`);
    lines.push(`server: child process (node ${serverEntry.join(' ')}), NODE_ENV=production, pool 10, ${PIN_SERVER ? 'pinned to core 0, its PostgreSQL backends to the other cores' : 'not pinned'}; ${opts.connections} keep-alive connections (node:http, closed loop); ${opts.warmupS} s warm-up + ${opts.durationS} s per run; median of ${opts.runs} runs`);
    lines.push(`load average before / after the runs: ${loadBefore} / ${loadAfter}`);
    lines.push('');
    lines.push(`${pad('scenario', 40)}${lpad('req/s', 6)}  ${pad('(runs)', 12)}${lpad('p50 ms', 8)}${lpad('p99 ms', 8)}${lpad('SQL/req', 8)}`
      + `${lpad('srv CPU', 8)}${lpad('PG CPU', 7)}${lpad('others', 7)}${lpad('srv ms/req', 11)}${lpad('PG ms/req', 10)}${lpad('resp KB', 8)}`);
    for (const s of list) {
      const rs = results.get(s.key)!;
      const pr = perRequest.get(s.key)!;
      const pg = rs.every((r) => r.pgCpu !== null) ? `${fmt(100 * median(rs.map((r) => r.pgCpu!)), 0)}%` : '-';
      const perRequestMs = (cpu: (r: RunResult) => number | null) =>
        (rs.every((r) => cpu(r) !== null) ? fmt(median(rs.map((r) => (1000 * cpu(r)!) / r.rps)), 2) : '-');
      lines.push(
        pad(s.label, 40) + lpad(fmt(median(rs.map((r) => r.rps)), 0), 6) + '  ' + pad(`(${rs.map((r) => fmt(r.rps, 0)).join(', ')})`, 12)
        + lpad(fmt(median(rs.map((r) => r.p50))), 8) + lpad(fmt(median(rs.map((r) => r.p99))), 8) + lpad(String(pr.statements), 8)
        + lpad(`${fmt(100 * median(rs.map((r) => r.serverCpu)), 0)}%`, 8) + lpad(pg, 7)
        + lpad(`${fmt(100 * median(rs.map((r) => r.othersCpu)), 0)}%`, 7)
        + lpad(perRequestMs((r) => r.serverCpu), 11) + lpad(perRequestMs((r) => r.pgCpu), 10) + lpad(fmt(pr.kb), 8),
      );
    }
    lines.push('CPU in % of one core during the runs: srv = the server process; PG = the PostgreSQL backends of this database;'
      + ' others = every other process but this load generator (other work on the machine, and PostgreSQL parallel workers,');
    lines.push('which cannot be attributed). ms/req = CPU milliseconds per request: what one request costs, less sensitive to'
      + ' contention than req/s (1000 / srv ms/req = the req/s a whole core could serve if nothing else limited it).');
    lines.push('reference (../shared/stack.md, same data size, one core, 10 connections): PostGraphile 5: 323 list / 2,129 lookup req/s;'
      + ' Apollo 5 + DataLoader, default plugins: 138 / 1,021; cache-control off: 249 / 1,141');
    lines.push('');
    lines.push('EXPLAIN (ANALYZE, BUFFERS) of the statements one request sends (auth and loaders summed):');
    for (const s of list) {
      const ex = explained.get(s.key)!;
      lines.push(`  ${s.label} (${perRequest.get(s.key)!.note}):`);
      // The statements that read app_user itself (page, count, lookup); authentication joins institution.
      const main = ex.filter((e) => e.tables.split('+')[0] === 'app_user' && !e.tables.includes('institution'));
      for (const e of main) {
        lines.push(`    ${e.kind.padEnd(5)} ${fmt(e.executionMs, 2).padStart(7)} ms exec, ${fmt(e.planningMs, 2)} ms plan, buffers hit ${e.sharedHit} read ${e.sharedRead}: ${e.plan}`);
      }
      const rest = ex.filter((e) => !main.includes(e));
      if (rest.length > 0) {
        const slowest = rest.reduce((a, b) => (b.executionMs > a.executionMs ? b : a));
        lines.push(`    other ${rest.length} statements: ${fmt(rest.reduce((t, e) => t + e.executionMs, 0), 2)} ms exec in all; slowest ${slowest.tables} ${fmt(slowest.executionMs, 2)} ms`);
      }
    }
    if (profileLines.length > 0) lines.push('', ...profileLines);
    lines.push('', `total time ${fmt((performance.now() - started) / 1000)} s`);
    console.log(lines.join('\n'));
  } finally {
    await guard.finish();
  }
}

const loadBefore = loadAverage();

main().catch((e) => {
  console.error('[bench] failed:', e instanceof Error ? e.stack : e);
  process.exitCode = 1;
});
