/**
 * `npm run bench:abuse`: does a normal client stay fast while others abuse
 * the server? The staff list page of one operator, requested at a steady rate
 * (open loop: latency counts from the moment each request was due, so a
 * stalled server cannot hide its delay), is measured alone (quiet), then
 * while, at the same time,
 *   - another operator sends expensive and malicious queries as fast as the
 *     server answers them (the costliest page the cost limit allows, name
 *     searches at the word limit, queries over each limit, NUL bytes, forged
 *     cursors), and
 *   - an unauthenticated client floods `login` with wrong passwords.
 * Rounds alternate quiet and abused; the report gives the normal client's
 * p50/p99 in both (median of the rounds) and their ratio, which issue 9 wants
 * at most 2, and what the abusers got back (codes per second).
 *
 * Server: a child process (NODE_ENV=production, pool 10), not pinned: the hash
 * gate's promise (src/auth/hash-gate.ts) is that password hashing takes at
 * most CARREL_HASH_CONCURRENCY cores, which leaves the event loop a core of
 * its own only on a server with more cores than that. Pinned to one core
 * (`--pin`, as `npm run bench` does), each 180 ms hash of the login flood
 * halves the event loop's share of that core, and the p99 shows it.
 * Options: --users N (20000), --duration S (10), --rounds N (2),
 * --rate R (the normal client's requests per second, 10), --abusers N
 * (connections of each abuser, closed loop, 8), --abuse queries|logins|queries,logins
 * (which abusers run, both by default), --abuse-warmup S (3: how long the
 * abusers run before the normal client is measured among them, so that the
 * figures are of a steady abuse, not of its first moments: JIT compilation of
 * the abusive paths, the database pool growing, an idle client's burst).
 */
import 'reflect-metadata';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/connect';
import { freshDatabase } from './fresh-database';
import { graphql, LOGIN, RunResult, runLoad } from './support/load';
import { CORES, describePinning, fmt, loadAverage, median, pinSelfOffServerCore } from './support/machine';
import { SOURCE_ENTRY, startChild } from './support/server-child';
import { guardRun } from './support/run-guard';
import { seedUsers } from './support/seed';

const log = (line: string) => console.log(`[bench:abuse] ${line}`);
const quiet = () => {};

interface Options {
  users: number;
  durationS: number;
  rounds: number;
  /** Seconds the abusers run before the normal client is measured among them. */
  abuseWarmupS: number;
  rate: number;
  abusers: number;
  /** Which abusers run: queries, logins or both. */
  abuse: ('queries' | 'logins')[];
  /** Pin the server to core 0 alone, as `npm run bench` does. */
  pin: boolean;
}

const USAGE = 'usage: npm run bench:abuse -- [--users N] [--duration S] [--rounds N] [--rate R] [--abusers N] [--abuse queries,logins] [--abuse-warmup S] [--pin]';

function parseOptions(argv: string[]): Options {
  const o: Options = { users: 20_000, durationS: 10, rounds: 2, abuseWarmupS: 3, rate: 10, abusers: 8, abuse: ['queries', 'logins'], pin: false };
  const keys: Record<string, 'users' | 'durationS' | 'rounds' | 'rate' | 'abusers' | 'abuseWarmupS'> = { '--abuse-warmup': 'abuseWarmupS', '--users': 'users', '--duration': 'durationS', '--rounds': 'rounds', '--rate': 'rate', '--abusers': 'abusers' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    if (flag === '--pin') {
      o.pin = true;
      continue;
    }
    if (flag === '--abuse') {
      const kinds = (inline ?? argv[++i] ?? '').split(',');
      if (kinds.every((k) => k === 'queries' || k === 'logins')) {
        o.abuse = kinds as Options['abuse'];
        continue;
      }
    }
    const key = keys[flag];
    const value = Number(inline ?? argv[++i]);
    if (!key || !Number.isFinite(value) || value < (key === 'abuseWarmupS' ? 0 : 1)) {
      console.error(`bad argument "${argv[i]}"\n${USAGE}`);
      process.exit(2);
    }
    o[key] = Math.floor(value);
  }
  return o;
}

const ROW = `id displayName primaryIdentifier userGroup expiryDate identifiers { type value }
  roles { roleType scope { type library { code } } } blocks { type } hasActiveBlock
  fineSummary { activeBalance disputedBalance exceedsDebtLimit }`;
/** What a staff frontend's users page asks for (scenario 1 of `npm run bench`). */
const NORMAL_PAGE = `query { users(first: 50, filter: { recordType: PUBLIC }) { totalCount edges { node { ${ROW} } } } }`;

/** The abuser's requests: each allowed at the edge of a limit, or refused by one. */
function abusiveBodies(): { label: string; body: string }[] {
  const body = (query: string, variables: Record<string, unknown> = {}) => JSON.stringify({ query, variables });
  return [
    { label: 'costliest allowed page', body: body(`query { users(first: 100) { totalCount edges { node { ${ROW} } } } }`) },
    { label: 'name search at the word limit', body: body(`query { users(first: 50, filter: { name: "a e i o u" }) { edges { node { ${ROW} } } } }`) },
    { label: 'over the cost limit', body: body(`query { users(first: 1000) { edges { node { ${ROW} } } } }`) },
    { label: 'too deep', body: body(`query { users { edges { node { roles { scope { library { desks { library { desks { library { desks { id } } } } } } } } } } } }`) },
    { label: '1,500 repeated fields', body: body(`query { me { ${'id '.repeat(1500)} } }`) },
    { label: 'NUL byte in a filter', body: body('query($n: String) { users(filter: { name: $n }) { totalCount } }', { n: 'a\u0000b' }) },
    { label: 'forged cursor', body: body('query($a: String) { users(after: $a) { totalCount } }', { a: Buffer.from('["x","1; DROP TABLE app_user","nope"]').toString('base64url') }) },
  ];
}

function loginFlood(): string[] {
  return Array.from({ length: 64 }, (_, i) =>
    JSON.stringify({ query: LOGIN, variables: { i: i % 2 ? 'usermgr' : `nobody-${i}`, p: `guess-${i}` } }));
}

/** Tallies what an abuser got back; anything 5xx or INTERNAL_SERVER_ERROR is a failure of the server. */
function tally() {
  const codes = new Map<string, number>();
  const accept = (status: number, body: Buffer) => {
    const text = body.toString();
    const code = /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? (status === 200 ? 'ok' : `HTTP ${status}`);
    codes.set(code, (codes.get(code) ?? 0) + 1);
    return status < 500 && code !== 'INTERNAL_SERVER_ERROR';
  };
  return { accept, codes };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const budgetMs = 120_000 + opts.users * 1.2 + opts.rounds * 2 * opts.durationS * 1000 * 1.5;
  const guard = guardRun('bench:abuse', budgetMs);
  if (opts.pin) pinSelfOffServerCore();
  log(`${CORES} cores; ${opts.pin ? describePinning() : 'nothing pinned'}; load average ${loadAverage()}`);
  try {
    const fresh = await freshDatabase(log);
    guard.cleanup(() => fresh.dispose());
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-bench-data-'));
    guard.cleanup(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const password = crypto.randomBytes(12).toString('hex');
    const database = await openDatabase({ ...loadConfig(), databaseUrl: fresh.url, dbPoolSize: 4 }, quiet);
    log(await seedUsers(database, opts.users, password, dataDir));
    await database.close();

    const child = await startChild(SOURCE_ENTRY, {
      DATABASE_URL: fresh.url, CARREL_ADMIN_PASSWORD: password, CARREL_DATA_DIR: dataDir,
      CARREL_TOKEN_SECRET: crypto.randomBytes(32).toString('hex'),
    }, [], opts.pin);
    guard.cleanup(() => child.stop());
    const normalToken: string = (await graphql(child.port, LOGIN, { i: 'usermgr', p: password })).login.token;
    const abuserToken: string = (await graphql(child.port, LOGIN, { i: 'admin', p: password })).login.token;
    const watch = { pid: child.pid, pgDatabase: fresh.name };
    const normalLoad = (seconds: number) =>
      runLoad({ port: child.port, token: normalToken, bodies: [JSON.stringify({ query: NORMAL_PAGE })], seconds, connections: 4, rate: opts.rate, watch });
    const abusive = abusiveBodies();
    const queries = tally();
    const logins = tally();

    await normalLoad(3); // warm-up
    const quietRuns: RunResult[] = [];
    const abusedRuns: RunResult[] = [];
    const abuserRuns: { queries: RunResult | null; logins: RunResult | null }[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      const q = await normalLoad(opts.durationS);
      quietRuns.push(q);
      log(`round ${round} quiet: ${fmt(q.rps)} req/s, p50 ${fmt(q.p50)} ms, p99 ${fmt(q.p99)} ms, server CPU ${fmt(100 * q.serverCpu, 0)}%`);
      const idle = async (): Promise<RunResult | null> => null;
      const abuseSeconds = opts.abuseWarmupS + opts.durationS;
      const [a, queryAbuse, loginAbuse] = await Promise.all([
        new Promise((resolve) => setTimeout(resolve, opts.abuseWarmupS * 1000)).then(() => normalLoad(opts.durationS)),
        opts.abuse.includes('queries')
          ? runLoad({ port: child.port, token: abuserToken, bodies: abusive.map((x) => x.body), seconds: abuseSeconds, connections: opts.abusers, watch, accept: queries.accept })
          : idle(),
        opts.abuse.includes('logins')
          ? runLoad({ port: child.port, bodies: loginFlood(), seconds: abuseSeconds, connections: opts.abusers, watch, accept: logins.accept })
          : idle(),
      ]);
      abusedRuns.push(a);
      abuserRuns.push({ queries: queryAbuse, logins: loginAbuse });
      log(`round ${round} abused: ${fmt(a.rps)} req/s, p50 ${fmt(a.p50)} ms, p99 ${fmt(a.p99)} ms, server CPU ${fmt(100 * a.serverCpu, 0)}%;`
        + ` abusive queries ${fmt(queryAbuse?.rps ?? 0)} req/s, logins ${fmt(loginAbuse?.rps ?? 0)} req/s`);
      for (const r of [a, queryAbuse, loginAbuse]) if (r && r.failures > 0) throw new Error(`failed responses under abuse: ${r.failures}, first: ${r.firstFailure}`);
    }

    const p99Quiet = median(quietRuns.map((r) => r.p99));
    const p99Abused = median(abusedRuns.map((r) => r.p99));
    const ratio = p99Abused / p99Quiet;
    const perSecond = (codes: Map<string, number>, seconds: number) =>
      [...codes.entries()].sort((x, y) => y[1] - x[1]).map(([c, n]) => `${c} ${fmt(n / seconds, 0)}/s`).join(', ');
    const abusedSeconds = opts.rounds * (opts.abuseWarmupS + opts.durationS);
    console.log([
      '',
      `Carrel abuse bench: ${opts.users} users; normal client ${opts.rate} users pages of 50 per second (usermgr); abusers ${opts.abusers} connections each`,
      `${'normal client'.padEnd(16)}${'req/s'.padStart(8)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'srv CPU'.padStart(9)}`,
      ...([['quiet', quietRuns], ['under abuse', abusedRuns]] as const).map(([label, rs]) =>
        `${label.padEnd(16)}${fmt(median(rs.map((r) => r.rps))).padStart(8)}${fmt(median(rs.map((r) => r.p50))).padStart(9)}`
        + `${fmt(median(rs.map((r) => r.p99))).padStart(9)}${`${fmt(100 * median(rs.map((r) => r.serverCpu)), 0)}%`.padStart(9)}`),
      `p99 under abuse / quiet: ${fmt(ratio, 2)} (target at most 2): ${ratio <= 2 ? 'PASS' : 'FAIL'}`,
      `abusive queries (${abusive.map((x) => x.label).join('; ')}): ${fmt(median(abuserRuns.map((r) => r.queries?.rps ?? 0)))} req/s answered: ${perSecond(queries.codes, abusedSeconds)}`,
      `login flood: ${fmt(median(abuserRuns.map((r) => r.logins?.rps ?? 0)))} req/s answered: ${perSecond(logins.codes, abusedSeconds)}`,
      `median of ${opts.rounds} rounds of ${opts.durationS} s; load average ${loadAverage()}`,
    ].join('\n'));
    if (ratio > 2) process.exitCode = 1;
  } finally {
    await guard.finish();
  }
}

main().catch((e) => {
  console.error('[bench:abuse] failed:', e instanceof Error ? e.stack : e);
  process.exitCode = 1;
});
