import client from 'prom-client';

/**
 * The process's metrics (prom-client), scraped at `/metrics` (metrics-route.ts). One registry per process: a counter
 * is incremented where the thing happens (a failed login, a statement timeout) without a handle being passed down.
 * Gauges of things a server owns (its pool, its subscribers, its outbox reader) are read at scrape time from the
 * sources the running servers registered, summed: tests run several servers in one process.
 *
 * Labels are bounded, because every distinct label set is a time series kept for the process's life: routes are
 * express's patterns, methods those Carrel serves, results are Carrel's own error codes, and operation names are what
 * clients choose, so they are kept only while there are fewer than MAX_OPERATION_NAMES of them (later ones count as
 * "(other)").
 */
export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const httpRequests = new client.Counter({
  name: 'carrel_http_requests_total', help: 'HTTP requests answered, by method, route and status', labelNames: ['method', 'route', 'status'], registers: [registry],
});
export const httpDuration = new client.Histogram({
  name: 'carrel_http_request_duration_seconds', help: 'Time from request to response end, by method, route and status', labelNames: ['method', 'route', 'status'], buckets: SECONDS, registers: [registry],
});
export const operations = new client.Counter({
  name: 'carrel_graphql_operations_total', help: 'GraphQL operations over HTTP, by operation name, type and result (ok or the first error code)', labelNames: ['operation', 'type', 'result'], registers: [registry],
});
export const operationDuration = new client.Histogram({
  name: 'carrel_graphql_operation_duration_seconds', help: 'GraphQL operations over HTTP, duration by operation name, type and result', labelNames: ['operation', 'type', 'result'], buckets: SECONDS, registers: [registry],
});
export const statementTimeouts = new client.Counter({
  name: 'carrel_db_statement_timeouts_total', help: 'Requests answered TIMEOUT: a statement cancelled by the statement timeout or a lock not granted in time', registers: [registry],
});
export const loginFailures = new client.Counter({
  name: 'carrel_login_failures_total', help: 'Sign-ins refused: a wrong identifier or password, or an account that is locked or must wait', labelNames: ['reason'], registers: [registry],
});
export const lockouts = new client.Counter({
  name: 'carrel_login_lockouts_total', help: 'Accounts locked after too many failures (sign-in or changePassword)', registers: [registry],
});
export const outboxLag = new client.Histogram({
  name: 'carrel_outbox_lag_seconds',
  help: 'Per read of the outbox, how long its oldest event waited from its transaction\'s start until this instance handed it to its subscribers',
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [registry],
});
export const eventsDelivered = new client.Counter({
  name: 'carrel_events_delivered_total', help: 'Change events sent, by transport (subscription or webhook)', labelNames: ['transport'], registers: [registry],
});

/** What a running server lets the scrape read; each returns the server's own share. */
export interface MetricSources {
  pool(): { total: number; idle: number; waiting: number; max: number };
  subscribers(): number;
}

const sources = new Set<MetricSources>();

/** Adds a server's sources; returns their removal (the server's stop). */
export function registerSources(s: MetricSources): () => void {
  sources.add(s);
  return () => sources.delete(s);
}

const sum = (read: (s: MetricSources) => number) => [...sources].reduce((n, s) => n + read(s), 0);

new client.Gauge({
  name: 'carrel_db_pool_connections', help: 'Connections of the requests\' pool: in use, idle, and max (the pool size)', labelNames: ['state'], registers: [registry],
  collect() {
    const pools = [...sources].map((s) => s.pool());
    const total = pools.reduce((n, p) => n + p.total, 0);
    const idle = pools.reduce((n, p) => n + p.idle, 0);
    this.set({ state: 'in_use' }, total - idle);
    this.set({ state: 'idle' }, idle);
    this.set({ state: 'max' }, pools.reduce((n, p) => n + p.max, 0));
  },
});
new client.Gauge({
  name: 'carrel_db_pool_waiting', help: 'Requests waiting for a connection of the pool', registers: [registry],
  collect() {
    this.set(sum((s) => s.pool().waiting));
  },
});
new client.Gauge({
  name: 'carrel_subscriptions_active', help: 'Live GraphQL subscriptions on this instance', registers: [registry],
  collect() {
    this.set(sum((s) => s.subscribers()));
  },
});

export const MAX_OPERATION_NAMES = 200;
/**
 * How many of those names requests without credentials may add. Anyone can send `query Junk1 { __typename }`: without
 * this share, a client with no account could take every name in a few seconds, and every operation that had not been
 * seen yet (a rare report, a newly deployed client's) would count as "(other)" for the process's life.
 */
export const MAX_ANONYMOUS_OPERATION_NAMES = 20;
const operationNames = new Set<string>();
let anonymousNames = 0;

/** The operation's label: its name while the set of names seen is small, else "(other)"; "(anonymous)" without one. */
export function operationLabel(name: string | null): string {
  return labelOf(name, false);
}

/** The same for a request without an operator (a sign-in that succeeded has one): within the anonymous share. */
export function anonymousOperationLabel(name: string | null): string {
  return labelOf(name, true);
}

function labelOf(name: string | null, anonymous: boolean): string {
  if (name === null) return '(anonymous)';
  if (operationNames.has(name)) return name;
  if (operationNames.size >= MAX_OPERATION_NAMES || (anonymous && anonymousNames >= MAX_ANONYMOUS_OPERATION_NAMES)) return '(other)';
  operationNames.add(name);
  if (anonymous) anonymousNames += 1;
  return name;
}

/** The methods Carrel serves somewhere; any other one Node's parser accepts (PROPFIND, PURGE ...) is labelled "other". */
const SERVED_METHODS = new Set(['GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS']);

export function methodLabel(method: string): string {
  return SERVED_METHODS.has(method) ? method : 'other';
}
