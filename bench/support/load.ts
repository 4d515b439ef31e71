import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { backendsOf, cpuSeconds, cpuUsed, machineBusySeconds, percentile, pinBackends } from './machine';

/** One GraphQL request over HTTP; throws on any GraphQL error. */
export async function graphql(port: number, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: { message: string }[] };
  if (body.errors) throw new Error(`request failed: ${body.errors[0].message}`);
  return body.data;
}

/** One POST /graphql of a ready-made JSON body, answered as text: for comparing two servers' answers as sent. */
export async function postRaw(port: number, body: string, token?: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  return { status: res.status, body: await res.text() };
}

export const LOGIN = `mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }`;

export interface RunResult {
  requests: number;
  failures: number;
  firstFailure?: string;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  serverCpu: number;
  pgCpu: number | null;
  /** CPU used on the machine by everything but the server, its PostgreSQL backends and this process, in cores. */
  othersCpu: number;
}

export interface Load {
  port: number;
  /** Sent as `Authorization: Bearer <token>` when given. */
  token?: string;
  /** JSON request bodies, sent round robin. */
  bodies: string[];
  seconds: number;
  connections: number;
  /** The server process and the database whose backends to account CPU to. */
  watch: { pid: number; pgDatabase: string };
  /** Whether a response counts as answered as expected; by default HTTP 200 without GraphQL errors. */
  accept?: (status: number, body: Buffer) => boolean;
  /**
   * Open loop: send this many requests per second on a fixed schedule, whatever the answers (at most `connections`
   * in flight), with latency counted from the scheduled moment, so a slow server cannot hide its delay by slowing the
   * client down. Without it, each connection sends its next request when the previous answer is in (closed loop).
   */
  rate?: number;
}

const answeredWithoutErrors = (status: number, body: Buffer) => status === 200 && !body.includes('"errors"');

/**
 * `connections` closed loops on their own keep-alive sockets for `seconds`:
 * each sends its next request when the previous response has been read in
 * full; requests still in flight at the deadline are completed and counted.
 */
export async function runLoad(load: Load): Promise<RunResult> {
  const { port, token, seconds, connections, watch } = load;
  const accept = load.accept ?? answeredWithoutErrors;
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const buffers = load.bodies.map((b) => Buffer.from(b));
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  let next = 0;
  const once = (body: Buffer, t = performance.now()) =>
    new Promise<void>((resolve) => {
      const fail = (why: string) => {
        failures += 1;
        firstFailure ??= why;
        resolve();
      };
      const req = http.request(
        {
          host: '127.0.0.1', port, path: '/graphql', method: 'POST', agent,
          headers: { 'content-type': 'application/json', 'content-length': body.length, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => fail(String(e)));
          res.on('end', () => {
            const buf = Buffer.concat(chunks);
            if (!accept(res.statusCode ?? 0, buf)) return fail(`HTTP ${res.statusCode}: ${buf.subarray(0, 300).toString()}`);
            latencies.push(performance.now() - t);
            resolve();
          });
        },
      );
      req.on('error', (e) => fail(String(e)));
      req.end(body);
    });

  const backends = backendsOf(watch.pgDatabase);
  pinBackends(backends);
  const cpu0 = cpuSeconds([watch.pid]);
  const pg0 = cpuSeconds(backends);
  const self0 = process.cpuUsage();
  const machine0 = machineBusySeconds();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  if (load.rate) await openLoop(load.rate, start, deadline, (scheduled) => once(buffers[next++ % buffers.length], scheduled));
  else {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < deadline) await once(buffers[next++ % buffers.length]);
      }),
    );
  }
  const elapsed = (performance.now() - start) / 1000;
  const serverCpu = cpuUsed(cpu0, cpuSeconds([watch.pid])) / elapsed;
  const pg1 = cpuSeconds(backendsOf(watch.pgDatabase));
  const pgCpu = pg1.size > 0 ? cpuUsed(pg0, pg1) / elapsed : null;
  const self = process.cpuUsage(self0);
  const selfCpu = (self.user + self.system) / 1e6 / elapsed;
  const othersCpu = Math.max(0, (machineBusySeconds() - machine0) / elapsed - serverCpu - (pgCpu ?? 0) - selfCpu);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length, failures, firstFailure, seconds: elapsed, rps: latencies.length / elapsed,
    p50: percentile(latencies, 50), p99: percentile(latencies, 99), serverCpu, pgCpu, othersCpu,
  };
}

/** Calls `send(scheduledAt)` every 1/rate seconds from `start` until `deadline`, and waits for every call to end. */
async function openLoop(rate: number, start: number, deadline: number, send: (scheduledAt: number) => Promise<void>): Promise<void> {
  const interval = 1000 / rate;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; start + i * interval < deadline; i++) {
    const at = start + i * interval;
    const wait = at - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(send(at));
  }
  await Promise.all(inFlight);
}
