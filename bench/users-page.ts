/**
 * `npm run bench`: throughput and latency of the staff list page and of a
 * point lookup, with 100,000 users, against the real server started as a
 * child process (`node src/main.ts` through the swc register hook,
 * NODE_ENV=production) pinned to core 0 with `taskset`, while this process
 * (the load generator) and the database's backends run on the other cores;
 * and, in the same run, against the floor (bench/support/floor-server.ts): a
 * minimal node:http + pg server, started the same way, that answers the same
 * requests with one prepared statement each building the whole JSON answer in
 * PostgreSQL. Carrel's ratio to the floor is the figure to quote (issue 12):
 * absolute req/s vary from machine to machine.
 *
 * Scenarios, each warmed up, then measured for a fixed time with 10 keep-alive
 * connections; runs interleaved (each run: every scenario, Carrel then the
 * floor, so both see the same machine state); the table shows the median of
 * the runs, and each run:
 *   1.  list page: users(first: 50, filter: { recordType: PUBLIC }) with totalCount, identifiers, roles, blocks, fine summary
 *   1b. the same list page without totalCount
 *   2.  point lookup: userByIdentifier(value) with identifiers and roles, a different existing primary identifier per request
 *   3.  the list page filtered by name "an"
 *   4.  the list page with hasActiveBlock: true, sorted by expiry date
 * Before measuring, Carrel's and the floor's answers are compared (JSON
 * deep-equal) for every scenario, and for 20 identifiers of the lookup; a
 * difference aborts the bench with the first differing path.
 * It also reports the SQL statements one request of each scenario sends to
 * Carrel (counted with sqlStatementCount() around one request to an in-process
 * server on the same database; the floor sends one), EXPLAIN (ANALYZE,
 * BUFFERS) of Carrel's statements that read app_user, exactly as the server
 * sent them, and of the floor's statement, the CPU the server process and this
 * database's PostgreSQL backends used during each run, and whether the goals
 * of issue 12 are met.
 *
 * The load generator is plain node:http (no dependency): closed loop, each of
 * the connections sends its next request when the previous response has been
 * read in full, and every response is checked (HTTP 200, no GraphQL errors).
 *
 * The database: a new one on the server of BENCH_ADMIN_URL, else of
 * DATABASE_URL, else postgres://postgres@127.0.0.1:5432, dropped at the end;
 * when none answers, an embedded PostgreSQL in a temporary folder. The seeding
 * time is printed (`--users 1000000` is meant to seed in 3 minutes or less).
 *
 * Options: --users N (100000, demo users included), --duration S (10),
 * --warmup S (3), --runs N (2), --connections N (10), --profile[=SCENARIO]
 * (afterwards, one more run of the list page, or of list|nocount|lookup|name|blocked,
 * against a second Carrel child started with --cpu-prof, and the functions with the
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
import { dataSourceOptions } from '../ormconfig';
import { createTokenIssuer } from '../src/auth/tokens';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/connect';
import { DEMO_INSTITUTION_CODE } from '../src/seed/demo-reference';
import { createServer } from '../src/server';
import { freshDatabase } from './fresh-database';
import { summariseProfile } from './support/cpu-profile';
import { assertSameAnswer } from './support/equality';
import { FLOOR_STATEMENTS } from './support/floor-queries';
import { graphql, LOGIN, postRaw, RunResult, runLoad } from './support/load';
import { CORES, describePinning, fmt, loadAverage, PIN_SERVER, pinSelfOffServerCore } from './support/machine';
import { QUERIES, SCENARIO_KEYS, ScenarioKey } from './support/queries';
import { busyRuns, Check, failureLines, issueChecks, ScenarioResult, tableLines, targetLines } from './support/report';
import { guardRun } from './support/run-guard';
import { seedUsers } from './support/seed';
import { Child, DIST_ENTRY, SOURCE_ENTRY, startChild } from './support/server-child';
import { Captured, captureSql, isWrite } from './support/sql-capture';

const ROOT = path.resolve(__dirname, '..');
const log = (line: string) => console.log(`[bench] ${line}`);
const quiet = () => {};
let serverEntry = SOURCE_ENTRY;
const FLOOR_ENTRY = ['-r', './bench/swc-register.js', 'bench/support/floor-server.ts'];

// ---------------------------------------------------------------- options

interface Options {
  users: number;
  durationS: number;
  warmupS: number;
  runs: number;
  connections: number;
  /** The key of the scenario to profile, or null. */
  profile: ScenarioKey | null;
  /** Run the compiled server (dist/src/main.js, `npm run build` first) instead of src/main.ts through the swc hook. */
  dist: boolean;
}

const USAGE = `usage: npm run bench -- [--users N] [--duration S] [--warmup S] [--runs N] [--connections N] [--profile[=${SCENARIO_KEYS.join('|')}]] [--dist]`;

function parseOptions(argv: string[]): Options {
  const o: Options = { users: 100_000, durationS: 10, warmupS: 3, runs: 2, connections: 10, profile: null, dist: false };
  const numeric: Record<string, keyof Options> = {
    '--users': 'users', '--duration': 'durationS', '--warmup': 'warmupS', '--runs': 'runs', '--connections': 'connections',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.split('=', 2);
    if (flag === '--profile' && (inline === undefined || (SCENARIO_KEYS as string[]).includes(inline))) {
      o.profile = (inline as ScenarioKey | undefined) ?? 'list';
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

interface Scenario {
  key: ScenarioKey;
  label: string;
  bodies: string[];
  /** Checks the first response, returns a note on what came back. */
  check(data: any): string;
}

const LABELS: Record<ScenarioKey, string> = {
  list: '1 list page (first: 50, PUBLIC)',
  nocount: '1b list page without totalCount',
  lookup: '2 point lookup (userByIdentifier)',
  name: '3 list page, name: "an"',
  blocked: '4 list page, hasActiveBlock, by expiry',
};

function scenarios(identifiers: string[]): Scenario[] {
  const page = (data: any) => {
    const rows = data.users.edges.length;
    if (rows !== 50) throw new Error(`expected 50 rows, got ${rows}`);
    return data.users.totalCount === undefined ? `${rows} rows` : `${rows} rows of totalCount ${data.users.totalCount}`;
  };
  return SCENARIO_KEYS.map((key): Scenario => {
    if (key === 'lookup') {
      return {
        key,
        label: LABELS[key],
        bodies: identifiers.map((v) => JSON.stringify({ query: QUERIES.lookup, variables: { v } })),
        check: (data) => {
          if (!data.userByIdentifier) throw new Error('userByIdentifier found nobody');
          return `${identifiers.length} identifiers, round robin`;
        },
      };
    }
    return { key, label: LABELS[key], bodies: [JSON.stringify({ query: QUERIES[key] })], check: page };
  });
}

/**
 * The lookup answers compared between Carrel and the floor: identifiers of the load (generated patrons), staff of the
 * demo institution (several roles, library scopes), additional identifiers (barcodes), a primary identifier in upper
 * case (matched case-insensitively), one with spaces around it (trimmed) and one that matches nobody (null).
 */
async function lookupSamples(db: { query(sql: string): Promise<any[]> }, identifiers: string[]): Promise<string[]> {
  const step = Math.max(1, Math.floor(identifiers.length / 12));
  const generated = identifiers.filter((_, i) => i % step === 0).slice(0, 12);
  const staff = (await db.query(`SELECT primary_identifier AS v FROM app_user WHERE record_type = 'STAFF' AND purged_at IS NULL ORDER BY primary_identifier LIMIT 3`)).map((r) => r.v);
  const barcodes = (await db.query(`SELECT value AS v FROM user_identifier ORDER BY md5(id::text) LIMIT 2`)).map((r) => r.v);
  return [...generated, ...staff, ...barcodes, identifiers[1].toUpperCase(), `  ${identifiers[2]} `, 'no-such-identifier-anywhere'];
}

interface Server {
  name: 'Carrel' | 'floor';
  child: Child;
  /** Carrel's bearer token; the floor takes none. */
  token?: string;
}

/**
 * The same answers, or no figures: each scenario's first request (and, for the lookup, `samples` too) is sent to
 * both servers and the answers must be deep-equal; throws with the first difference. Returns the size of each
 * server's first answer per scenario, keyed `scenario:server`.
 */
async function compareAnswers(list: Scenario[], servers: Server[], samples: string[]): Promise<Map<string, number>> {
  const responseBytes = new Map<string, number>();
  for (const s of list) {
    const bodies = s.key === 'lookup' ? [s.bodies[0], ...samples.map((v) => JSON.stringify({ query: QUERIES.lookup, variables: { v } }))] : [s.bodies[0]];
    for (const [i, body] of bodies.entries()) {
      const [carrel, floor] = await Promise.all(servers.map(async (x) => {
        const r = await postRaw(x.child.port, body, x.token);
        if (r.status !== 200) throw new Error(`${s.label}: ${x.name} answered HTTP ${r.status}: ${r.body.slice(0, 300)}`);
        if (i === 0) responseBytes.set(`${s.key}:${x.name}`, Buffer.byteLength(r.body));
        return { name: x.name, body: r.body };
      }));
      const what = s.key === 'lookup' ? `${s.label} (value ${JSON.stringify(JSON.parse(body).variables.v)})` : s.label;
      assertSameAnswer(what, carrel, floor);
    }
  }
  return responseBytes;
}

// ---------------------------------------------------------------- SQL per request and EXPLAIN

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

/** The distinct table reads of a plan ("Index Scan app_user_sort_name_idx", "Seq Scan user_block"): what a long plan comes down to. */
function scansOf(node: PlanNode, out = new Set<string>()): Set<string> {
  if (node['Relation Name']) out.add(`${node['Node Type']} ${node['Index Name'] ?? node['Relation Name']}`);
  for (const c of node.Plans ?? []) scansOf(c, out);
  return out;
}

/** A short name for a statement: the tables it reads. */
function tablesOf(sql: string): string {
  const tables = [...sql.matchAll(/\b(?:FROM|JOIN)\s+"?([a-z_]+)"?/gi)].map((m) => m[1]).filter((t) => t.toLowerCase() !== 'select');
  return [...new Set(tables)].join('+') || sql.slice(0, 40);
}

interface Explained {
  query: string;
  tables: string;
  kind: string;
  plan: string;
  scans: string[];
  executionMs: number;
  planningMs: number;
  sharedHit: number;
  sharedRead: number;
}

async function explainAll(client: Client, sql: Captured[]): Promise<Explained[]> {
  const out: Explained[] = [];
  for (const s of sql) {
    // Only reads: EXPLAIN ANALYZE runs the statement.
    if (isWrite(s.query)) continue;
    const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${s.query}`, s.parameters as unknown[]);
    const [result] = rows[0]['QUERY PLAN'];
    const plan = result.Plan as PlanNode & { 'Shared Hit Blocks': number; 'Shared Read Blocks': number };
    out.push({
      query: s.query,
      tables: tablesOf(s.query),
      // A page's statement may count inside (children, blocks); a count statement starts with its aggregate.
      kind: /\bLIMIT\b/i.test(s.query) ? 'page' : /^\s*SELECT\s+(COUNT\(|coalesce\(sum\()/i.test(s.query) ? 'count' : 'rows',
      plan: describePlan(plan),
      scans: [...scansOf(plan)],
      executionMs: result['Execution Time'],
      planningMs: result['Planning Time'],
      sharedHit: plan['Shared Hit Blocks'],
      sharedRead: plan['Shared Read Blocks'],
    });
  }
  return out;
}

/**
 * Tables small whatever the number of users, so a sequential scan of one is the planner's right choice: configuration,
 * and the folded user counters (one row per record type, account type, status and future expiry date: a few thousand
 * rows, some 30 pages, for 100,000 users as for a million).
 */
const CONFIGURATION_TABLES = new Set(['institution', 'library', 'circulation_desk', 'code_value', 'fine_fee_type', 'role_profile', 'role_profile_entry', 'role_assignment_rule', 'user_count_delta']);

/** A sequential scan of a table that grows with the users: its cost grows with them (issue 12's scale goal). */
const growsWithUsers = (scan: string) => scan.startsWith('Seq Scan ') && !CONFIGURATION_TABLES.has(scan.slice('Seq Scan '.length));

/**
 * The EXPLAIN section: per scenario, each of Carrel's statements (authentication summed) and the floor's one.
 * Adds to `seqScans` Carrel's sequential scans of tables that grow with the users.
 */
function explainLines(
  list: Scenario[],
  x: { perRequest: Map<string, { note: string }>; explained: Map<string, Explained[]>; authSql: Set<string>; floorExplained: Map<string, Explained> },
  seqScans: Set<string>,
): string[] {
  const out = ['EXPLAIN (ANALYZE, BUFFERS) of the statements one request sends, after the runs (Carrel: each statement, a long plan as its table reads, authentication summed; the floor: its one statement):'];
  const line = (kind: string, e: Explained, plan: string) =>
    `    ${kind.padEnd(5)} ${fmt(e.executionMs, 2).padStart(7)} ms exec, ${fmt(e.planningMs, 2)} ms plan, buffers hit ${e.sharedHit} read ${e.sharedRead}: ${plan}`;
  for (const s of list) {
    out.push(`  ${s.label} (${x.perRequest.get(s.key)!.note}):`);
    const ex = x.explained.get(s.key)!;
    const auth = ex.filter((e) => x.authSql.has(e.query));
    for (const e of ex.filter((y) => !auth.includes(y))) {
      // A long plan (one statement for a whole page) comes down to its table reads.
      out.push(line(e.kind, e, e.plan.length <= 160 ? e.plan : e.scans.join(', ')));
      for (const scan of e.scans.filter(growsWithUsers)) seqScans.add(`${s.key} ${e.kind}: ${scan}`);
    }
    if (auth.length > 0) out.push(`    auth  ${fmt(auth.reduce((t, e) => t + e.executionMs, 0), 2).padStart(7)} ms exec in ${auth.length} statement(s) (the operator re-read)`);
    const f = x.floorExplained.get(s.key);
    if (f) out.push(line('floor', f, f.scans.join(', ')));
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
  // A hard bound: whatever hangs, the children are killed and the database dropped. Two servers per scenario and run.
  const budgetMs = 120_000 + opts.users * 1.2
    + 2 * SCENARIO_KEYS.length * opts.runs * (opts.durationS + opts.warmupS) * 1000 * 1.5 + (opts.profile ? 90_000 : 0);
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
    log(`seeding ${opts.users.toLocaleString('en')} users ...`);
    const seeded = await seedUsers(database, opts.users, password, dataDir);
    log(seeded);
    const db = database.dataSource;
    const identifiers: string[] = (
      await db.query(`SELECT primary_identifier AS v FROM app_user WHERE record_type = 'PUBLIC' AND primary_identifier IS NOT NULL ORDER BY md5(id::text) LIMIT 2000`)
    ).map((r: { v: string }) => r.v);
    const [{ id: institutionId }] = await db.query(`SELECT id FROM institution WHERE code = $1`, [DEMO_INSTITUTION_CODE]);
    const list = scenarios(identifiers);
    // The settings Carrel's sessions start with (`-c random_page_cost=...`): the floor's and EXPLAIN's sessions get them too.
    const sessionOptions = (dataSourceOptions(fresh.url).extra as { options?: string } | undefined)?.options ?? '';

    // SQL statements of one request per scenario, on an in-process server over the same database.
    const capture = captureSql();
    const inProcess = await createServer({ db, tokens: createTokenIssuer(tokenSecret, 3600), production: true });
    const localPort = await inProcess.listen(0);
    const localToken: string = (await graphql(localPort, LOGIN, { i: 'admin', p: password })).login.token;
    // What authentication alone sends (the operator re-read), to tell it apart from the scenarios' reads below.
    await graphql(localPort, '{ __typename }', {}, localToken);
    const authSql = new Set((await capture.during(() => graphql(localPort, '{ __typename }', {}, localToken))).sql.map((c) => c.query)
      .filter((q) => !isWrite(q)));
    const perRequest = new Map<string, { statements: number; sql: Captured[]; note: string }>();
    for (const s of list) {
      const body = JSON.parse(s.bodies[0]) as { query: string; variables?: Record<string, unknown> };
      // The first request of a kind may warm caches: not counted. Of the next three, the one with the fewest
      // statements: the server's timers (the counters' compaction, event pruning) may send one in the middle.
      await graphql(localPort, body.query, body.variables, localToken);
      let fewest: Awaited<ReturnType<typeof capture.during<unknown>>> | null = null;
      for (let i = 0; i < 3; i++) {
        const c = await capture.during(() => graphql(localPort, body.query, body.variables, localToken));
        if (!fewest || c.statements < fewest.statements) fewest = c;
      }
      perRequest.set(s.key, { statements: fewest!.statements, sql: fewest!.sql, note: s.check(fewest!.result) });
    }
    await inProcess.stop();

    // The server under test.
    // No request budget: this bench measures how fast the server answers one client, which a budget would cap at
    // about 16 list pages a second (README, Request budgets); npm run bench:abuse measures the budgets.
    const childEnv = { DATABASE_URL: fresh.url, CARREL_ADMIN_PASSWORD: password, CARREL_DATA_DIR: dataDir, CARREL_TOKEN_SECRET: tokenSecret, CARREL_BUDGET_PER_SECOND: '0' };
    const child = await startChild(serverEntry, childEnv);
    guard.cleanup(() => child.stop());
    const token: string = (await graphql(child.port, LOGIN, { i: 'admin', p: password })).login.token;
    log(`Carrel pid ${child.pid} on port ${child.port}`);
    // The floor: the same start (core 0, NODE_ENV=production, pool 10), no authentication, and Carrel's session
    // settings (the planner's costs), so both get the plans the same settings give.
    const floor = await startChild(FLOOR_ENTRY, { DATABASE_URL: fresh.url, CARREL_FLOOR_INSTITUTION_ID: institutionId, CARREL_FLOOR_PG_OPTIONS: sessionOptions });
    guard.cleanup(() => floor.stop());
    log(`floor pid ${floor.pid} on port ${floor.port}`);

    // The same answers, or no figures: a floor that answers less would flatter nobody but itself.
    const servers: Server[] = [
      { name: 'Carrel', child, token },
      { name: 'floor', child: floor },
    ];
    const samples = await lookupSamples(db, identifiers);
    const responseBytes = await compareAnswers(list, servers, samples);
    log(`answers equal: ${list.length} scenarios, ${samples.length + 1} lookups, Carrel and the floor deep-equal`);
    log(`${opts.connections} connections, ${opts.warmupS} s warm-up + ${opts.durationS} s measured, ${opts.runs} runs per scenario and server, interleaved`);

    const results = new Map<string, RunResult[]>(list.flatMap((s) => servers.map((x) => [`${s.key}:${x.name}`, []] as [string, RunResult[]])));
    for (let run = 1; run <= opts.runs; run++) {
      for (const s of list) {
        for (const x of servers) {
          const load = { port: x.child.port, token: x.token, bodies: s.bodies, connections: opts.connections, watch: { pid: x.child.pid, pgDatabase: fresh.name } };
          if (opts.warmupS > 0) await runLoad({ ...load, seconds: opts.warmupS });
          const r = await runLoad({ ...load, seconds: opts.durationS });
          // A failed answer (a statement timeout at a million users) is reported with the figures, not instead of them.
          if (r.failures > 0) log(`run ${run} ${s.label} ${x.name}: ${r.failures} FAILED responses, first: ${r.firstFailure?.slice(0, 300)}`);
          results.get(`${s.key}:${x.name}`)!.push(r);
          log(`run ${run} ${s.label} ${x.name.padEnd(6)}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, server CPU ${fmt(100 * r.serverCpu, 0)}%, its PostgreSQL backends ${r.pgCpu === null ? '-' : fmt(100 * r.pgCpu, 0) + '%'}, other processes ${fmt(100 * r.othersCpu, 0)}% (load ${loadAverage()})`);
        }
      }
    }
    const loadAfter = loadAverage();

    // EXPLAIN (ANALYZE, BUFFERS) of the statements the servers sent, after the runs (warm cache, as under load).
    const explainClient = new Client({ connectionString: fresh.url, options: sessionOptions || undefined });
    await explainClient.connect();
    const explained = new Map<string, Explained[]>();
    const floorExplained = new Map<string, Explained>();
    try {
      for (const s of list) {
        explained.set(s.key, await explainAll(explainClient, perRequest.get(s.key)!.sql));
        const f = FLOOR_STATEMENTS.find((x) => x.key === s.key)!;
        const firstVariables = (JSON.parse(s.bodies[0]) as { variables?: Record<string, unknown> }).variables ?? {};
        floorExplained.set(s.key, (await explainAll(explainClient, [{ query: f.text, parameters: f.values(institutionId, firstVariables) }]))[0]);
      }
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
        `CPU profile of Carrel (--cpu-prof) during one ${opts.durationS} s run of ${s.label}: ${fmt(r.rps)} req/s under the profiler, server CPU ${fmt(100 * r.serverCpu, 0)}%`,
        ...(file ? summariseProfile(path.join(profDir, file), from, to) : ['  no .cpuprofile was written']),
      ];
    }

    // ------------------------------------------------------------ report
    const table: ScenarioResult[] = list.map((s) => ({
      key: s.key,
      label: s.label,
      carrel: { runs: results.get(`${s.key}:Carrel`)!, statements: perRequest.get(s.key)!.statements, responseBytes: responseBytes.get(`${s.key}:Carrel`)! },
      floor: { runs: results.get(`${s.key}:floor`)!, statements: 1, responseBytes: responseBytes.get(`${s.key}:floor`)! },
    }));
    lines.push('');
    lines.push(`Carrel users page bench: ${seeded.replace(/^seeded /, '')}`);
    lines.push(`servers: child processes, NODE_ENV=production, pool 10, ${PIN_SERVER ? 'pinned to core 0, their PostgreSQL backends to the other cores' : 'not pinned'}:`
      + ` Carrel (node ${serverEntry.join(' ')}) and the floor (node ${FLOOR_ENTRY.join(' ')}: node:http + pg, one prepared statement per request building the JSON in PostgreSQL);`
      + ` sessions of both and of EXPLAIN: ${sessionOptions || 'PostgreSQL defaults'}`);
    lines.push(`${opts.connections} keep-alive connections (node:http, closed loop); ${opts.warmupS} s warm-up + ${opts.durationS} s per run and server; median of ${opts.runs} interleaved runs;`
      + ` answers checked deep-equal before measuring (${list.length} scenarios, ${samples.length + 1} lookups)`);
    lines.push(`load average before / after the runs: ${loadBefore} / ${loadAfter}`);
    const busy = busyRuns(table);
    if (busy.length > 0) {
      lines.push(`WARNING: CPU of other processes (column "others") above 25% of a core in: ${busy.join(', ')}. PostgreSQL's parallel workers`
        + ' (a sequential scan of every user) count there; where they do not explain it, the machine was not quiet and those figures are not reliable');
    }
    lines.push('');
    lines.push(...tableLines(table));
    const failed = failureLines(table);
    lines.push(...failed);
    lines.push('x floor = Carrel\'s req/s / the floor\'s (medians). SQL/req: statements one request sends (Carrel: counted on an in-process server; the floor: 1 by construction).');
    lines.push('CPU in % of one core during the runs: srv = the server process; PG = the PostgreSQL backends of this database;'
      + ' others = every other process but this load generator (other work on the machine, and PostgreSQL parallel workers,');
    lines.push('which cannot be attributed). ms/req = CPU milliseconds per request: what one request costs, less sensitive to'
      + ' contention than req/s (1000 / srv ms/req = the req/s a whole core could serve if nothing else limited it).');
    lines.push('resp KB: one answer as sent (the floor\'s JSON has PostgreSQL\'s spacing in its outer objects and between array items).');

    lines.push('');
    const seqScans = new Set<string>();
    lines.push(...explainLines(list, { perRequest, explained, authSql, floorExplained }, seqScans));

    // Issue 12's scale goal: every filtered scenario served by an index (a sequential scan grows with the users).
    const indexCheck: Check = {
      what: 'Seq Scans', value: `${seqScans.size} table reads`, goal: 'none', met: seqScans.size === 0,
    };
    lines.push('');
    lines.push(...targetLines([...issueChecks(table), { scenario: 'every scenario index-served', checks: [indexCheck] }], opts.users));
    if (seqScans.size > 0) lines.push(`  Carrel's sequential scans of tables that grow with the users: ${[...seqScans].join('; ')}`);
    if (profileLines.length > 0) lines.push('', ...profileLines);
    lines.push('', `total time ${fmt((performance.now() - started) / 1000)} s`);
    console.log(lines.join('\n'));
    if (failed.length > 0) process.exitCode = 1;
  } finally {
    await guard.finish();
  }
}

const loadBefore = loadAverage();

main().catch((e) => {
  console.error('[bench] failed:', e instanceof Error ? e.stack : e);
  process.exitCode = 1;
});
