/**
 * `npm run bench:events` (issue 11): delivery of change events over
 * graphql-ws to many subscribers while another process writes a steady
 * stream of changes.
 *
 * Runs, each on the same fresh database (bench/fresh-database.ts) seeded with
 * the demo institution:
 *   1. one server instance, 1,000 subscribers;
 *   2. two instances on two ports sharing the database, 500 subscribers each,
 *      the writer sending to the first only (the second learns of every change
 *      through NOTIFY and the outbox).
 *
 * Servers: child processes (src/main.ts through the swc hook, NODE_ENV=production,
 * pool 10, CARREL_BUDGET_PER_SECOND=0), pinned to core 0 where the machine has
 * two cores (both instances of run 2 share it, so each run has one core of
 * server); this process, the writer and PostgreSQL run on the other cores.
 *
 * Subscribers: graphql-ws clients (createClient, `ws`) in this process, all
 * authenticated in connection_init as the demo's User Manager (`usermgr`, one
 * operator, one token), each running
 *   subscription { userChanged { cursor type at changes { newValue } user { id primaryIdentifier firstName } } }
 * so they all share one execution per event on their instance (src/events/event-execution.ts); the query also
 * selects `changes { newValue }`, the first name the change set, to tell the changes apart.
 *
 * Writer: a child process of this file (`--writer`), open loop: `updateUser(id,
 * input: { firstName })` over HTTP as the demo admin at a fixed rate, round robin
 * over the demo's patrons, the first name carrying the change's sequence number.
 *
 * Lag per delivered event, two ways (one clock: same machine):
 *   - vs `at`: receive time - the event's `at` (the writing transaction's start,
 *     a few ms before its commit): an upper bound of commit-to-client; the target uses this one;
 *   - vs response: receive time - the time the writer had the mutation's HTTP
 *     response (after the commit): a lower bound (negative when the event beats the response).
 * Every subscriber must receive every change exactly once (missing and duplicated are counted, by the change's
 * own `changes { newValue }`: `user` is read as it is when the event is executed, so a late event shows a later name).
 * Missing = not received 15 s after the writer's last response (a server far behind shows its backlog here).
 *
 * Options: --subscribers N (1000), --rate N changes/s (100), --duration S (60),
 * --runs 1,2 (which runs: 1 = one instance, 2 = two instances), --profile
 * (run 1's server with --cpu-prof, and where its time went).
 */
import 'reflect-metadata';
import { ChildProcess, execFileSync, fork } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Client as WsClient, createClient } from 'graphql-ws';
import { Client as PgClient } from 'pg';
import WebSocket from 'ws';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/connect';
import { freshDatabase } from './fresh-database';
import { graphql, LOGIN } from './support/load';
import { backendsOf, CORES, cpuSeconds, cpuUsed, describePinning, fmt, loadAverage, machineBusySeconds, percentile, pinBackends, pinSelfOffServerCore } from './support/machine';
import { Child, SOURCE_ENTRY, startChild } from './support/server-child';
import { seedUsers } from './support/seed';
import { summariseProfile } from './support/cpu-profile';
import { guardRun } from './support/run-guard';

const ROOT = path.resolve(__dirname, '..');
const log = (line: string) => console.log(`[bench:events] ${line}`);
/** Wall-clock milliseconds with sub-millisecond resolution, comparable across the processes of this machine. */
const wallMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SUBSCRIPTION = 'subscription { userChanged { cursor type at changes { newValue } user { id primaryIdentifier firstName } } }';
const RENAME = 'mutation($id: ID!, $f: String!) { updateUser(id: $id, input: { firstName: $f }) { id } }';

// ---------------------------------------------------------------- options

interface Options {
  subscribers: number;
  rate: number;
  durationS: number;
  runs: number[];
  profile: boolean;
}

const USAGE = 'usage: npm run bench:events -- [--subscribers N] [--rate N] [--duration S] [--runs 1,2] [--profile]';

function parseOptions(argv: string[]): Options {
  const o: Options = { subscribers: 1000, rate: 100, durationS: 60, runs: [1, 2], profile: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    if (flag === '--profile') { o.profile = true; continue; }
    if (flag === '--help' || flag === '-h') { console.log(USAGE); process.exit(0); }
    const value = inline ?? argv[++i];
    if (flag === '--runs') {
      o.runs = String(value).split(',').map(Number);
      if (o.runs.length === 0 || o.runs.some((r) => r !== 1 && r !== 2)) { console.error(`bad --runs "${value}"\n${USAGE}`); process.exit(2); }
      continue;
    }
    const n = Number(value);
    const keys: Record<string, 'subscribers' | 'rate' | 'durationS'> = { '--subscribers': 'subscribers', '--rate': 'rate', '--duration': 'durationS' };
    const key = keys[flag];
    if (!key || !Number.isFinite(n) || n <= 0) { console.error(`bad argument "${argv[i]}"\n${USAGE}`); process.exit(2); }
    o[key] = key === 'subscribers' ? Math.floor(n) : n;
  }
  return o;
}

// ---------------------------------------------------------------- the writer (a child process of this file)

interface WriterJob { port: number; token: string; rate: number; seconds: number; users: string[]; prefix: string }
/** One change: its sequence number, when it was sent and when its response was in (wall ms), and whether it succeeded. */
interface WriterResult { sent: number[]; answered: number[]; ok: boolean[]; failures: number; firstFailure?: string; startedAt: number; endedAt: number }

async function runWriter(job: WriterJob): Promise<WriterResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const total = Math.round(job.rate * job.seconds);
  const result: WriterResult = { sent: new Array(total), answered: new Array(total), ok: new Array(total).fill(false), failures: 0, startedAt: wallMs(), endedAt: 0 };
  const once = (seq: number) => new Promise<void>((resolve) => {
    const body = Buffer.from(JSON.stringify({ query: RENAME, variables: { id: job.users[seq % job.users.length], f: `${job.prefix}${seq}` } }));
    const fail = (why: string) => {
      result.failures += 1;
      result.firstFailure ??= why;
      resolve();
    };
    result.sent[seq] = wallMs();
    const req = http.request({
      host: '127.0.0.1', port: job.port, path: '/graphql', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: `Bearer ${job.token}` },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => fail(String(e)));
      res.on('end', () => {
        result.answered[seq] = wallMs();
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200 || text.includes('"errors"')) return fail(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
        result.ok[seq] = true;
        resolve();
      });
    });
    req.on('error', (e) => fail(String(e)));
    req.end(body);
  });
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let seq = 0; seq < total; seq++) {
    const wait = start + (seq * 1000) / job.rate - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(once(seq));
  }
  await Promise.all(inFlight);
  result.endedAt = wallMs();
  agent.destroy();
  return result;
}

function startWriter(job: WriterJob): { child: ChildProcess; done: Promise<WriterResult> } {
  const child = fork(__filename, ['--writer'], { cwd: ROOT, execArgv: ['-r', './bench/swc-register.js'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const done = new Promise<WriterResult>((resolve, reject) => {
    child.once('message', (m) => resolve(m as WriterResult));
    child.once('exit', (code) => reject(new Error(`the writer exited (${code}) without a result`)));
  });
  child.send(job);
  return { child, done };
}

// ---------------------------------------------------------------- subscribers (in this process)

interface Subscriber {
  client: WsClient;
  instance: number;
  /** seen[seq] = 1 once the change with that sequence number arrived. */
  seen: Uint8Array;
  received: number;
  duplicates: number;
  probes: Set<string>;
  closed?: string;
}

/** Every delivery of every subscriber: the change's sequence number, the receive time, and the event's `at`. */
class Deliveries {
  seq: Int32Array;
  recv: Float64Array;
  at: Float64Array;
  instance: Uint8Array;
  n = 0;
  constructor(capacity: number) {
    this.seq = new Int32Array(capacity);
    this.recv = new Float64Array(capacity);
    this.at = new Float64Array(capacity);
    this.instance = new Uint8Array(capacity);
  }
  add(seq: number, recv: number, at: number, instance: number) {
    if (this.n === this.seq.length) return; // full: counted as received anyway, so a flood shows as duplicates or extras
    this.seq[this.n] = seq;
    this.recv[this.n] = recv;
    this.at[this.n] = at;
    this.instance[this.n] = instance;
    this.n += 1;
  }
}

function connectSubscriber(url: string, token: string, instance: number, prefix: () => string, capacity: number, deliveries: () => Deliveries): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    let sub: Subscriber;
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: false,
      on: {
        connected: () => resolve(sub),
        closed: (event) => {
          const e = event as { code: number; reason: string };
          sub.closed ??= `${e.code} ${e.reason}`;
          reject(new Error(`subscriber closed before it was acknowledged: ${sub.closed}`));
        },
      },
      onNonLazyError: () => {},
    });
    sub = { client, instance, seen: new Uint8Array(capacity), received: 0, duplicates: 0, probes: new Set() };
    client.subscribe<{ userChanged: { at: string; changes: { newValue: string | null }[] } }>({ query: SUBSCRIPTION }, {
      next: (value) => {
        const recv = wallMs();
        const event = value.data?.userChanged;
        // The event's own new value, not user.firstName: `user` is read when the event is executed, so an event
        // delivered late shows the user's later name.
        const name = event?.changes[0]?.newValue ?? '';
        const p = prefix();
        if (!name.startsWith(p)) {
          sub.probes.add(name);
          return;
        }
        const seq = Number(name.slice(p.length));
        if (sub.seen[seq]) {
          sub.duplicates += 1;
          return;
        }
        sub.seen[seq] = 1;
        sub.received += 1;
        deliveries().add(seq, recv, Date.parse(event!.at), instance);
      },
      error: (e) => { sub.closed ??= `error ${JSON.stringify(e).slice(0, 200)}`; },
      complete: () => { sub.closed ??= 'completed by the server'; },
    });
  });
}

// ---------------------------------------------------------------- process metrics

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}


// ---------------------------------------------------------------- one run

interface RunResult {
  label: string;
  instances: number;
  subscribers: number;
  sent: number;
  writerFailures: number;
  firstFailure?: string;
  changesPerS: number;
  writeP50: number;
  writeP99: number;
  deliveredPerS: number;
  deliveries: number;
  missing: number;
  duplicates: number;
  closed: string[];
  lagAt: { p50: number; p99: number; max: number };
  lagResp: { p50: number; p99: number; max: number };
  lagAtByInstance: string;
  p99ByWindow: string;
  rss: { start: number; middle: number; end: number; max: number }[];
  serverCpu: number[];
  pgCpu: number;
  writerCpu: number;
  selfCpu: number;
  eld: { p99: number; max: number };
  /** CPU of every other process on the machine (core-seconds per second), and jest processes seen before / after. */
  othersCpu: number;
  jest: string;
  profile: string[];
}

interface Env { url: string; pgName: string; childEnv: Record<string, string>; password: string; users: string[] }

let runNumber = 0;

async function benchRun(env: Env, opts: Options, instances: number, profile: boolean): Promise<RunResult> {
  runNumber += 1;
  const label = instances === 1 ? `1 instance, ${opts.subscribers} subscribers` : `${instances} instances, ${opts.subscribers / instances} subscribers each`;
  log(`run ${runNumber}: ${label}, ${opts.rate} changes/s for ${opts.durationS} s`);
  const profDir = profile ? fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-bench-events-prof-')) : null;
  const children: Child[] = [];
  const subs: Subscriber[] = [];
  let writer: ChildProcess | null = null;
  try {
    for (let i = 0; i < instances; i++) {
      children.push(await startChild(SOURCE_ENTRY, env.childEnv, profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []));
    }
    const port = children[0].port;
    const subscriberToken: string = (await graphql(port, LOGIN, { i: 'usermgr', p: env.password })).login.token;
    const writerToken: string = (await graphql(port, LOGIN, { i: 'admin', p: env.password })).login.token;

    const total = Math.round(opts.rate * opts.durationS);
    let prefix = `Probe${runNumber}x`;
    const deliveries = new Deliveries(opts.subscribers * (total + 10));
    const t0 = performance.now();
    for (let i = 0; i < opts.subscribers; i += 50) {
      const batch = Array.from({ length: Math.min(50, opts.subscribers - i) }, (_, k) => {
        const instance = (i + k) % instances;
        return connectSubscriber(`http://127.0.0.1:${children[instance].port}/graphql`, subscriberToken, instance, () => prefix, total + 10, () => deliveries);
      });
      subs.push(...(await Promise.all(batch)));
    }
    log(`${subs.length} subscribers connected in ${fmt((performance.now() - t0) / 1000)} s`);
    // Subscriptions start after the acknowledgement: a change every subscriber receives shows they all listen.
    for (let probe = 1; ; probe++) {
      const name = `Probe${runNumber}p${probe}`;
      await graphql(port, RENAME, { id: env.users[0], f: name }, writerToken);
      const until = performance.now() + 5000;
      while (performance.now() < until && subs.some((s) => !s.probes.has(name))) await sleep(50);
      const missing = subs.filter((s) => !s.probes.has(name)).length;
      if (missing === 0) break;
      if (probe === 5) throw new Error(`${missing} subscribers never received the probe change`);
    }
    await sleep(1000);
    prefix = `R${runNumber}n`;

    const pgBackends = () => backendsOf(env.pgName);
    const jest = () => { try { return execFileSync('pgrep', ['-f', 'jest'], { encoding: 'utf8' }).trim().split('\n').length; } catch { return 0; } };
    const jestBefore = jest();
    pinBackends(pgBackends());
    const pids = children.map((c) => c.pid);
    const rssSamples: { t: number; rss: number[] }[] = [];
    const sampleRss = () => rssSamples.push({ t: performance.now(), rss: pids.map(rssMb) });
    const eld = monitorEventLoopDelay({ resolution: 10 });
    const cpu0 = cpuSeconds(pids);
    const pg0 = cpuSeconds(pgBackends());
    const self0 = process.cpuUsage();
    const machine0 = machineBusySeconds();
    sampleRss();
    const sampler = setInterval(sampleRss, 1000);
    eld.enable();
    const started = performance.now();
    const profileFrom = Number(process.hrtime.bigint() / 1000n);
    const w = startWriter({ port, token: writerToken, rate: opts.rate, seconds: opts.durationS, users: env.users, prefix });
    writer = w.child;
    const writerCpu0 = cpuSeconds([w.child.pid!]);
    let writerCpu1 = writerCpu0;
    const writerCpuSampler = setInterval(() => (writerCpu1 = cpuSeconds([w.child.pid!])), 1000);
    const result = await w.done;
    clearInterval(writerCpuSampler);
    const written = result.ok.filter(Boolean).length;
    // Until every subscriber has every change the writer made, at most 15 s.
    const drainUntil = performance.now() + 15_000;
    while (performance.now() < drainUntil && subs.some((s) => s.received < written && !s.closed)) await sleep(50);
    const elapsed = (performance.now() - started) / 1000;
    const profileTo = Number(process.hrtime.bigint() / 1000n);
    eld.disable();
    clearInterval(sampler);
    sampleRss();
    const serverCpu = pids.map((pid) => cpuUsed(new Map([[pid, cpu0.get(pid)!]]), cpuSeconds([pid])) / elapsed);
    const pgCpu = cpuUsed(pg0, cpuSeconds(pgBackends())) / elapsed;
    const self = process.cpuUsage(self0);
    const machineBusy = (machineBusySeconds() - machine0) / elapsed;
    const jestAfter = jest();

    // ---------------------------------------------------------- figures
    const writeWindow = (result.endedAt - result.startedAt) / 1000;
    const writeLatencies = result.sent.map((s, i) => result.answered[i] - s).filter(Number.isFinite).sort((a, b) => a - b);
    const lagAt = new Float64Array(deliveries.n);
    const lagResp = new Float64Array(deliveries.n);
    const perInstance: number[][] = Array.from({ length: instances }, () => []);
    const windows = new Map<number, number[]>();
    for (let i = 0; i < deliveries.n; i++) {
      const seq = deliveries.seq[i];
      lagAt[i] = deliveries.recv[i] - deliveries.at[i];
      lagResp[i] = deliveries.recv[i] - result.answered[seq];
      perInstance[deliveries.instance[i]].push(lagAt[i]);
      const window = Math.floor((result.sent[seq] - result.startedAt) / 10_000);
      if (!windows.has(window)) windows.set(window, []);
      windows.get(window)!.push(lagAt[i]);
    }
    lagAt.sort();
    lagResp.sort();
    const stats = (xs: Float64Array) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99), max: xs.length ? xs[xs.length - 1] : NaN });
    let missing = 0;
    for (const s of subs) for (let seq = 0; seq < total; seq++) if (result.ok[seq] && !s.seen[seq]) missing += 1;
    const closed = [...new Set(subs.filter((s) => s.closed).map((s) => s.closed!))];
    const rssAt = (fraction: number) => {
      const t = started + fraction * opts.durationS * 1000;
      return rssSamples.reduce((best, s) => (Math.abs(s.t - t) < Math.abs(best.t - t) ? s : best));
    };
    const rss = pids.map((_, i) => ({
      start: rssAt(0).rss[i], middle: rssAt(0.5).rss[i], end: rssAt(1).rss[i], max: Math.max(...rssSamples.map((s) => s.rss[i])),
    }));
    const p99ByWindow = [...windows.entries()].sort((a, b) => a[0] - b[0])
      .map(([k, xs]) => `${k * 10}-${k * 10 + 10} s: ${fmt(percentile(xs.sort((a, b) => a - b), 99))}`).join(', ');
    const lagAtByInstance = perInstance.map((xs, i) => {
      xs.sort((a, b) => a - b);
      return `instance ${i + 1}${i === 0 ? ' (written to)' : ''}: p50 ${fmt(percentile(xs, 50))}, p99 ${fmt(percentile(xs, 99))}, max ${fmt(xs[xs.length - 1] ?? NaN)}`;
    }).join('; ');

    const run: RunResult = {
      label, instances, subscribers: subs.length, sent: total, writerFailures: result.failures, firstFailure: result.firstFailure,
      changesPerS: written / writeWindow, writeP50: percentile(writeLatencies, 50), writeP99: percentile(writeLatencies, 99),
      deliveredPerS: deliveries.n / elapsed, deliveries: deliveries.n,
      missing, duplicates: subs.reduce((t, s) => t + s.duplicates, 0), closed,
      lagAt: stats(lagAt), lagResp: stats(lagResp), lagAtByInstance, p99ByWindow, rss, serverCpu, pgCpu,
      writerCpu: cpuUsed(writerCpu0, writerCpu1) / writeWindow,
      selfCpu: (self.user + self.system) / 1e6 / elapsed,
      eld: { p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 },
      othersCpu: 0,
      jest: jestBefore + jestAfter > 0 ? `jest running (${jestBefore} / ${jestAfter} processes before / after)` : 'no jest',
      profile: [],
    };
    run.othersCpu = Math.max(0, machineBusy - serverCpu.reduce((a, b) => a + b, 0) - pgCpu - run.writerCpu - run.selfCpu);
    log(`run ${runNumber}: ${written}/${total} changes (${fmt(run.changesPerS)}/s, mutation p50 ${fmt(run.writeP50)} ms p99 ${fmt(run.writeP99)} ms), `
      + `${deliveries.n} deliveries (${fmt(run.deliveredPerS, 0)}/s); lag vs at p50 ${fmt(run.lagAt.p50)} p99 ${fmt(run.lagAt.p99)} max ${fmt(run.lagAt.max)} ms; `
      + `missing ${missing}, duplicated ${run.duplicates}; server CPU ${serverCpu.map((c) => fmt(c, 2)).join(' + ')} s/s, PostgreSQL ${fmt(pgCpu, 2)} s/s, bench ${fmt(run.selfCpu, 2)} s/s, others ${fmt(run.othersCpu, 2)} s/s; ${run.jest}; load ${loadAverage()}`);
    if (result.failures > 0) log(`writer failures: ${result.failures}, first: ${result.firstFailure}`);
    if (closed.length > 0) log(`subscribers closed during the run: ${closed.join(' | ')}`);

    await Promise.all(subs.map((s) => s.client.dispose()));
    subs.length = 0;
    for (const c of children) await c.stop();
    if (profDir) {
      const files = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
      run.profile = files.length > 0 ? summariseProfile(path.join(profDir, files[0]), profileFrom, profileTo, 25) : ['  no .cpuprofile was written'];
    }
    return run;
  } finally {
    writer?.kill('SIGKILL');
    await Promise.all(subs.map((s) => s.client.dispose()));
    for (const c of children) await c.stop();
    if (profDir) fs.rmSync(profDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const startedAt = performance.now();
  const budgetMs = 90_000 + opts.runs.length * (opts.durationS * 1000 + 90_000);
  const guard = guardRun('bench:events', budgetMs);

  pinSelfOffServerCore();
  const loadBefore = loadAverage();
  log(`${CORES} cores; ${describePinning()}; load average ${loadBefore}`);
  try {
    const fresh = await freshDatabase(log);
    guard.cleanup(() => fresh.dispose());
    log(fresh.where);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-bench-events-'));
    guard.cleanup(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const password = crypto.randomBytes(12).toString('hex');
    const database = await openDatabase({ ...loadConfig(), databaseUrl: fresh.url, dbPoolSize: 4 }, () => {});
    let seeded: string;
    try {
      seeded = await seedUsers(database, 0, password, dataDir);
    } finally {
      await database.close();
    }
    log(seeded);
    const childEnv = {
      DATABASE_URL: fresh.url, CARREL_DATA_DIR: dataDir, CARREL_TOKEN_SECRET: crypto.randomBytes(32).toString('hex'), CARREL_BUDGET_PER_SECOND: '0',
    };

    // The patrons the writer renames: the demo's active PUBLIC users that updateUser accepts (tried once each).
    const pg = new PgClient({ connectionString: fresh.url });
    await pg.connect();
    const candidates: string[] = (await pg.query(
      `SELECT u.id FROM app_user u JOIN institution i ON i.id = u.institution_id WHERE u.record_type = 'PUBLIC' ORDER BY u.primary_identifier LIMIT 400`,
    )).rows.map((r: { id: string }) => r.id);
    await pg.end();
    const trial = await startChild(SOURCE_ENTRY, childEnv);
    const users: string[] = [];
    try {
      const token: string = (await graphql(trial.port, LOGIN, { i: 'admin', p: password })).login.token;
      const refusals = new Map<string, number>();
      for (let i = 0; i < candidates.length; i += 20) {
        await Promise.all(candidates.slice(i, i + 20).map(async (id) => {
          try {
            await graphql(trial.port, RENAME, { id, f: 'Trial' }, token);
            users.push(id);
          } catch (e) {
            const why = (e as Error).message.slice(0, 120);
            refusals.set(why, (refusals.get(why) ?? 0) + 1);
          }
        }));
      }
      log(`${users.length} of ${candidates.length} demo patrons accept updateUser(firstName)${refusals.size ? `; refused: ${[...refusals].map(([k, v]) => `${v} x ${k}`).join('; ')}` : ''}`);
    } finally {
      await trial.stop();
    }
    if (users.length < 50) throw new Error('too few patrons to write to');
    const env: Env = { url: fresh.url, pgName: fresh.name, childEnv, password, users };

    const runs: RunResult[] = [];
    for (const r of opts.runs) runs.push(await benchRun(env, opts, r, opts.profile && r === 1));

    // ------------------------------------------------------------ report
    const lines: string[] = [''];
    lines.push(`Carrel events bench: ${seeded.replace(/^seeded /, '')}; ${users.length} patrons renamed round robin`);
    lines.push(`machine: ${CORES} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}; ${describePinning()} (both instances of a 2-instance run share core 0); PostgreSQL: ${fresh.where}`);
    lines.push(`servers: child processes (node ${SOURCE_ENTRY.join(' ')}), NODE_ENV=production, pool 10, no request budget; subscribers: graphql-ws clients in the bench process,`
      + ` all as usermgr (User Manager, institution; one token), one query: ${SUBSCRIPTION}`);
    lines.push(`writer: child process, open loop, updateUser(firstName) as admin over HTTP to instance 1; ${opts.rate} changes/s for ${opts.durationS} s`);
    lines.push(`load average before / after: ${loadBefore} / ${loadAverage()}`);
    lines.push('');
    lines.push('| run | changes/s (mutation p50/p99 ms) | events delivered/s | lag vs `at` p50 / p99 / max (ms) | lag vs response p50 / p99 / max (ms) | missing | duplicated | server RSS start / middle / end (max) MB | server CPU s/s | PostgreSQL CPU s/s | writer / bench process / other processes CPU s/s | bench event-loop delay p99 | other work |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of runs) {
      const rss = r.rss.map((m) => `${fmt(m.start, 0)} / ${fmt(m.middle, 0)} / ${fmt(m.end, 0)} (${fmt(m.max, 0)})`).join('; ');
      lines.push(`| ${r.label} | ${fmt(r.changesPerS)} (${fmt(r.writeP50)} / ${fmt(r.writeP99)}) | ${fmt(r.deliveredPerS, 0)} | ${fmt(r.lagAt.p50)} / ${fmt(r.lagAt.p99)} / ${fmt(r.lagAt.max)}`
        + ` | ${fmt(r.lagResp.p50)} / ${fmt(r.lagResp.p99)} / ${fmt(r.lagResp.max)} | ${r.missing} | ${r.duplicates} | ${rss} | ${r.serverCpu.map((c) => fmt(c, 2)).join(' + ')}`
        + ` | ${fmt(r.pgCpu, 2)} | ${fmt(r.writerCpu, 2)} / ${fmt(r.selfCpu, 2)} / ${fmt(r.othersCpu, 2)} | ${fmt(r.eld.p99)} ms | ${r.jest} |`);
    }
    lines.push('');
    lines.push('lag vs `at`: receive time - the event\'s `at` (its transaction\'s start, before the commit): an upper bound of commit-to-client, the one the target reads.');
    lines.push('lag vs response: receive time - the writer\'s receipt of the mutation\'s response (after the commit): a lower bound. CPU in core-seconds per second of the run.');
    lines.push('missing: changes a subscriber had not received 15 s after the writer\'s last response (a backlog, or a loss); mutation latency counts from the scheduled send.');
    for (const r of runs) {
      lines.push(`${r.label}: p99 lag vs \`at\` by 10 s of writing: ${r.p99ByWindow}`);
      if (r.instances > 1) lines.push(`  by instance: ${r.lagAtByInstance}`);
      if (r.writerFailures > 0) lines.push(`  writer failures: ${r.writerFailures}, first: ${r.firstFailure}`);
      if (r.closed.length > 0) lines.push(`  subscribers closed: ${r.closed.join(' | ')}`);
    }
    lines.push('');
    const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
    for (const r of runs) {
      const flat = r.rss.every((m) => m.end - m.middle <= Math.max(0.1 * m.middle, 16));
      lines.push(`targets, ${r.label}: p99 lag <= 50 ms at ${opts.rate} changes/s: ${verdict(r.lagAt.p99 <= 50)}; nothing missing or duplicated: `
        + `${verdict(r.missing === 0 && r.duplicates === 0 && r.writerFailures === 0)}; flat memory (end within 10% or 16 MB of the middle): ${verdict(flat)}`);
    }
    for (const r of runs.filter((x) => x.profile.length > 0)) lines.push('', `CPU profile of the server (--cpu-prof) during ${r.label}:`, ...r.profile);
    lines.push('', `total time ${fmt((performance.now() - startedAt) / 1000)} s`);
    console.log(lines.join('\n'));
  } finally {
    await guard.finish();
  }
}

if (process.argv.includes('--writer')) {
  process.once('message', (job) => {
    void runWriter(job as WriterJob).then((result) => process.send!(result, () => process.exit(0)), (e) => {
      console.error('[bench:events] writer failed:', e);
      process.exit(1);
    });
  });
} else {
  main().catch((e) => {
    console.error('[bench:events] failed:', e instanceof Error ? e.stack : e);
    process.exitCode = 1;
  });
}
