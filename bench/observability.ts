/**
 * `npm run bench:observability`: what the per-request log line and the request metrics cost (issue 15), on the users
 * page benchmark's data and requests (bench/users-page.ts): 100,000 users, the staff list page (50 users) and the
 * point lookup, 10 keep-alive connections in closed loops, the server pinned to core 0.
 *
 * Two Carrel children on the same database, started the same way (src/main.ts, NODE_ENV=production, JSON logs on
 * stdout, drained by this process as a log shipper reads the pipe):
 *   A. observed: CARREL_OBSERVE_REQUESTS=true, CARREL_LOG_LEVEL=info, CARREL_METRICS_TOKEN set, and /metrics scraped
 *      every --scrape seconds (5; Prometheus's default is 15) while it is under load; its log goes to a file;
 *   B. unobserved: CARREL_OBSERVE_REQUESTS=false, CARREL_LOG_LEVEL=warn, no metrics token.
 * Both are up for the whole run and pinned to core 0, but only one is under load at a time: runs interleaved (each
 * run: every scenario, A then B, B then A on the next run), so both see the same machine state. The table shows the
 * medians of the runs, A's throughput as a fraction of B's, and the server CPU each request took: A's extra CPU per
 * request is the cost, whatever the machine's speed.
 *
 * Afterwards A's log is checked: every line parses as JSON, one request line per GraphQL request sent, no password or
 * token in it; and the requests /metrics counted match the requests sent.
 *
 * Options: --users N (100000), --duration S (10), --warmup S (3), --runs N (3), --connections N (10), --scrape S (5).
 */
import 'reflect-metadata';
import { parseNumericOptions } from './support/options';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/connect';
import { freePort, freshDatabase } from './fresh-database';
import { graphql, LOGIN, RunResult, runLoad } from './support/load';
import { CORES, describePinning, fmt, loadAverage, median, pinSelfOffServerCore } from './support/machine';
import { QUERIES } from './support/queries';
import { summarise } from './support/report';
import { guardRun } from './support/run-guard';
import { seedUsers } from './support/seed';
import { Child, SOURCE_ENTRY, startChild } from './support/server-child';

const log = (line: string) => console.log(`[bench] ${line}`);
const quiet = () => {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- options

interface Options {
  users: number;
  durationS: number;
  warmupS: number;
  runs: number;
  connections: number;
  scrapeS: number;
}

const USAGE = 'usage: npm run bench:observability -- [--users N] [--duration S] [--warmup S] [--runs N] [--connections N] [--scrape S]';

function parseOptions(argv: string[]): Options {
  return parseNumericOptions(argv, USAGE, { users: 100_000, durationS: 10, warmupS: 3, runs: 3, connections: 10, scrapeS: 5 }, {
    '--users': { key: 'users', min: 1 },
    '--duration': { key: 'durationS', min: 0.1, fractional: true },
    '--warmup': { key: 'warmupS', min: 0, fractional: true },
    '--runs': { key: 'runs', min: 1 },
    '--connections': { key: 'connections', min: 1 },
    '--scrape': { key: 'scrapeS', min: 0.1, fractional: true },
  });
}

// ---------------------------------------------------------------- the two servers

type Side = 'A' | 'B';
const SIDES: Record<Side, string> = { A: 'A observed', B: 'B unobserved' };

/** A's log: written to a file as a shipper would, with running counts of what came through the pipe. */
function logFile(file: string) {
  const out = fs.createWriteStream(file);
  let bytes = 0;
  let lines = 0;
  return {
    write(chunk: string) {
      out.write(chunk);
      bytes += Buffer.byteLength(chunk);
      for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) lines++;
    },
    counts: () => ({ bytes, lines }),
    close: () => new Promise<void>((resolve) => out.end(resolve)),
  };
}

/** GET /metrics every `seconds` from now until stopped, as Prometheus does; every scrape must answer 200. */
function scrapeEvery(port: number, token: string, seconds: number) {
  const stats = { scrapes: 0, failures: 0, bytes: 0, ms: [] as number[] };
  const once = async () => {
    const t = performance.now();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      stats.scrapes++;
      stats.bytes = Buffer.byteLength(body);
      stats.ms.push(performance.now() - t);
    } catch {
      stats.failures++;
    }
  };
  let last = once();
  const timer = setInterval(() => (last = once()), seconds * 1000);
  return {
    stats,
    async stop() {
      clearInterval(timer);
      await last;
    },
  };
}

/** The GraphQL requests /metrics counted (carrel_http_requests_total for route /graphql, every status). */
async function graphqlRequestsCounted(port: number, token: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  let total = 0;
  for (const m of text.matchAll(/^carrel_http_requests_total\{([^}]*)\} (\S+)$/gm)) if (/route="\/graphql"/.test(m[1])) total += Number(m[2]);
  return total;
}

interface LogCheck {
  lines: number;
  notJson: number;
  requestLines: number;
  /** Lines that contain one of the secrets this run used. */
  leaks: number;
}

/** Reads A's whole log: JSON lines, request lines for POST /graphql, and none holding a secret. */
async function checkLog(file: string, secrets: string[]): Promise<LogCheck> {
  const out: LogCheck = { lines: 0, notJson: 0, requestLines: 0, leaks: 0 };
  for await (const line of readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })) {
    if (line === '') continue;
    out.lines++;
    if (secrets.some((s) => line.includes(s))) out.leaks++;
    try {
      const entry = JSON.parse(line) as { reqId?: unknown; route?: unknown };
      if (typeof entry.reqId === 'string' && entry.route === '/graphql') out.requestLines++;
    } catch {
      out.notJson++;
    }
  }
  return out;
}

// ---------------------------------------------------------------- scenarios

interface Scenario {
  key: 'list' | 'lookup';
  label: string;
  bodies: string[];
}

/** The users page benchmark's scenarios 1 and 2, with the same requests (bench/support/queries.ts). */
const scenarios = (identifiers: string[]): Scenario[] => [
  { key: 'list', label: 'list page (50 users)', bodies: [JSON.stringify({ query: QUERIES.list })] },
  { key: 'lookup', label: 'point lookup', bodies: identifiers.map((v) => JSON.stringify({ query: QUERIES.lookup, variables: { v } })) },
];

/** What A's log took during one run of a scenario (warm-up included), and the requests sent meanwhile. */
interface LogShare {
  bytes: number;
  lines: number;
  requests: number;
}

// ---------------------------------------------------------------- report

const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

function tableLines(list: Scenario[], results: Map<string, RunResult[]>, logShares: Map<string, LogShare[]>): string[] {
  const header = pad('scenario', 22) + pad('server', 14) + lpad('req/s', 7) + '  ' + pad('(runs)', 20) + lpad('p50 ms', 8) + lpad('p99 ms', 8)
    + lpad('srv ms/req', 11) + lpad('srv CPU', 8) + lpad('others', 7) + lpad('log B/req', 10);
  const lines = [header];
  for (const s of list) {
    const a = results.get(`${s.key}:A`)!;
    const b = results.get(`${s.key}:B`)!;
    const shares = logShares.get(s.key)!;
    const logBytes = shares.reduce((n, x) => n + x.bytes, 0) / shares.reduce((n, x) => n + x.requests, 0);
    for (const side of ['A', 'B'] as const) {
      const runs = side === 'A' ? a : b;
      const x = summarise(runs);
      lines.push(pad(side === 'A' ? s.label : '', 22) + pad(SIDES[side], 14) + lpad(fmt(x.rps, 0), 7) + '  ' + pad(`(${runs.map((r) => fmt(r.rps, 0)).join(', ')})`, 20)
        + lpad(fmt(x.p50), 8) + lpad(fmt(x.p99), 8) + lpad(fmt(x.serverMs, 3), 11) + lpad(`${fmt(x.serverPct, 0)}%`, 8) + lpad(`${fmt(x.othersPct, 0)}%`, 7)
        + lpad(side === 'A' ? fmt(logBytes, 0) : '-', 10));
    }
    const [sa, sb] = [summarise(a), summarise(b)];
    // Run i of A and run i of B ran next to each other: their ratio sees the least drift of the machine.
    const paired = (f: (r: RunResult) => number) => a.map((r, i) => f(r) / f(b[i]));
    const perRun = (xs: number[]) => `per run ${xs.map((x) => fmt(x, 3)).join(', ')}, median ${fmt(median(xs), 3)}`;
    const cpuPerRequest = (r: RunResult) => r.serverCpu / r.rps;
    lines.push(`${pad('', 22)}A/B throughput ${fmt(sa.rps / sb.rps, 3)} (${perRun(paired((r) => r.rps))})`);
    lines.push(`${pad('', 22)}A/B server CPU per request ${fmt(sa.serverMs / sb.serverMs, 3)} (${perRun(paired(cpuPerRequest))}): ${fmt(1000 * (sa.serverMs - sb.serverMs), 0)} µs more per request`);
  }
  return lines;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const started = performance.now();
  // A hard bound: whatever hangs, the children are killed and the database dropped.
  const budgetMs = 120_000 + opts.users * 1.2 + 2 * scenarios([]).length * opts.runs * (opts.durationS + opts.warmupS + 1) * 1000 * 1.5;
  const guard = guardRun('bench', budgetMs);

  pinSelfOffServerCore();
  const loadBefore = loadAverage();
  log(`${CORES} cores; ${describePinning()}; load average ${loadBefore}`);

  const lines: string[] = [];
  try {
    const fresh = await freshDatabase(log);
    guard.cleanup(() => fresh.dispose());
    log(fresh.where);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-bench-observability-'));
    guard.cleanup(async () => fs.rmSync(tmp, { recursive: true, force: true }));
    const dataDir = path.join(tmp, 'data');
    fs.mkdirSync(dataDir);
    const password = crypto.randomBytes(12).toString('hex');
    const tokenSecret = crypto.randomBytes(32).toString('hex');
    const metricsToken = crypto.randomBytes(24).toString('hex');

    const database = await openDatabase({ ...loadConfig(), databaseUrl: fresh.url, dbPoolSize: 10 }, quiet);
    guard.cleanup(() => database.close());
    log(`seeding ${opts.users.toLocaleString('en')} users ...`);
    log(await seedUsers(database, opts.users, password, dataDir));
    const identifiers: string[] = (
      await database.dataSource.query(`SELECT primary_identifier AS v FROM app_user WHERE record_type = 'PUBLIC' AND primary_identifier IS NOT NULL ORDER BY md5(id::text) LIMIT 2000`)
    ).map((r: { v: string }) => r.v);
    const list = scenarios(identifiers);

    // The same start for both but what is measured. Empty values override the caller's environment (empty is unset).
    // No request budget, as in npm run bench: it would cap the list page (README, Request budgets).
    const common = {
      DATABASE_URL: fresh.url, CARREL_ADMIN_PASSWORD: password, CARREL_DATA_DIR: dataDir, CARREL_TOKEN_SECRET: tokenSecret, CARREL_BUDGET_PER_SECOND: '0',
      CARREL_LOG_FORMAT: 'json', CARREL_METRICS_PORT: '', OTEL_EXPORTER_OTLP_ENDPOINT: '',
    };
    const logPath = path.join(tmp, 'a.log');
    const aLog = logFile(logPath);
    const a = await startChild(SOURCE_ENTRY, { ...common, CARREL_OBSERVE_REQUESTS: 'true', CARREL_LOG_LEVEL: 'info', CARREL_METRICS_TOKEN: metricsToken }, [], undefined, { onOutput: aLog.write });
    guard.cleanup(() => a.stop());
    // At warn, B prints no start-up line to read its port from.
    let bBytes = 0;
    const b = await startChild(SOURCE_ENTRY, { ...common, CARREL_OBSERVE_REQUESTS: 'false', CARREL_LOG_LEVEL: 'warn', CARREL_METRICS_TOKEN: '' }, [], undefined, {
      port: await freePort(),
      onOutput: (c) => (bBytes += Buffer.byteLength(c)),
    });
    guard.cleanup(() => b.stop());
    const children: Record<Side, Child> = { A: a, B: b };
    const tokens: Record<Side, string> = {
      A: (await graphql(a.port, LOGIN, { i: 'admin', p: password })).login.token,
      B: (await graphql(b.port, LOGIN, { i: 'admin', p: password })).login.token,
    };
    let sentToA = 1;
    log(`A (observed) pid ${a.pid} on port ${a.port}, B (unobserved) pid ${b.pid} on port ${b.port}`);
    log(`${opts.connections} connections, ${opts.warmupS} s warm-up + ${opts.durationS} s measured, ${opts.runs} runs per scenario and server, interleaved; /metrics of A scraped every ${opts.scrapeS} s under load`);

    const results = new Map<string, RunResult[]>(list.flatMap((s) => (['A', 'B'] as const).map((x) => [`${s.key}:${x}`, []] as [string, RunResult[]])));
    const logShares = new Map<string, LogShare[]>(list.map((s) => [s.key, []]));
    const scrapeStats = { scrapes: 0, failures: 0, bytes: 0, ms: [] as number[] };
    for (let run = 1; run <= opts.runs; run++) {
      for (const s of list) {
        // A first on odd runs, B first on even ones: neither always gets the warmer (or the more tired) machine.
        for (const side of run % 2 === 1 ? (['A', 'B'] as const) : (['B', 'A'] as const)) {
          const child = children[side];
          const load = { port: child.port, token: tokens[side], bodies: s.bodies, connections: opts.connections, watch: { pid: child.pid, pgDatabase: fresh.name } };
          const before = aLog.counts();
          const scraper = side === 'A' ? scrapeEvery(a.port, metricsToken, opts.scrapeS) : null;
          const warm = opts.warmupS > 0 ? await runLoad({ ...load, seconds: opts.warmupS }) : null;
          const r = await runLoad({ ...load, seconds: opts.durationS });
          await scraper?.stop();
          if (r.failures > 0) log(`run ${run} ${s.label} ${SIDES[side]}: ${r.failures} FAILED responses, first: ${r.firstFailure?.slice(0, 300)}`);
          results.get(`${s.key}:${side}`)!.push(r);
          let note = '';
          if (side === 'A') {
            // The last responses' lines are written as their sockets close and cross the pipe: let them arrive.
            await sleep(300);
            const requests = (warm ? warm.requests + warm.failures : 0) + r.requests + r.failures;
            sentToA += requests;
            const after = aLog.counts();
            const share = { bytes: after.bytes - before.bytes, lines: after.lines - before.lines, requests };
            logShares.get(s.key)!.push(share);
            scrapeStats.scrapes += scraper!.stats.scrapes;
            scrapeStats.failures += scraper!.stats.failures;
            scrapeStats.bytes = scraper!.stats.bytes;
            scrapeStats.ms.push(...scraper!.stats.ms);
            note = `, log ${share.lines} lines for ${requests} requests, ${fmt(share.bytes / requests, 0)} B/request, ${scraper!.stats.scrapes} scrapes`;
          }
          log(`run ${run} ${s.label} ${pad(SIDES[side], 12)}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, server CPU ${fmt(100 * r.serverCpu, 0)}%, `
            + `its PostgreSQL backends ${r.pgCpu === null ? '-' : fmt(100 * r.pgCpu, 0) + '%'}, other processes ${fmt(100 * r.othersCpu, 0)}%${note} (load ${loadAverage()})`);
        }
      }
    }
    const loadAfter = loadAverage();

    const counted = await graphqlRequestsCounted(a.port, metricsToken);
    await a.stop();
    await b.stop();
    await aLog.close();
    const check = await checkLog(logPath, [password, tokenSecret, metricsToken, tokens.A, tokens.B]);
    const logSize = fs.statSync(logPath).size;

    lines.push(
      '',
      `observability cost, ${opts.users.toLocaleString('en')} users, ${opts.connections} connections, ${opts.runs} runs of ${opts.durationS} s (after ${opts.warmupS} s warm-up), interleaved; ${describePinning()}`,
      'A: CARREL_OBSERVE_REQUESTS=true, CARREL_LOG_LEVEL=info, JSON log on stdout drained to a file, /metrics (CARREL_METRICS_TOKEN) scraped every '
        + `${opts.scrapeS} s under load; B: CARREL_OBSERVE_REQUESTS=false, CARREL_LOG_LEVEL=warn, no metrics`,
      ...tableLines(list, results, logShares),
      '',
      `A's log: ${check.lines} lines, ${(logSize / 1e6).toFixed(1)} MB; ${check.notJson === 0 ? 'every line is JSON' : `${check.notJson} lines NOT JSON`}; `
        + `${check.requestLines} request lines for POST /graphql, ${sentToA} GraphQL requests sent (${check.requestLines === sentToA ? 'equal' : `DIFFERENT by ${check.requestLines - sentToA}`}); `
        + `${check.leaks === 0 ? 'no password or token in it' : `${check.leaks} lines HOLD A SECRET`}`,
      `A's /metrics: ${scrapeStats.scrapes} scrapes under load (${scrapeStats.failures} failed), ${(scrapeStats.bytes / 1024).toFixed(1)} KB each, median ${fmt(median(scrapeStats.ms))} ms; `
        + `carrel_http_requests_total for /graphql ${counted} (${counted === sentToA ? 'equal to the requests sent' : `DIFFERENT by ${counted - sentToA}`})`,
      `B wrote ${bBytes} bytes after its start`,
      `load average before ${loadBefore}, after the runs ${loadAfter} (1, 5, 15 min; ${CORES} cores)`,
      `total ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
  } finally {
    await guard.finish();
  }
  console.log(lines.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
