import { z } from 'zod';
import { QUERY_LIMITS } from '../server/query-limits';
import { DEFAULT_WEBHOOK_SETTINGS as WEBHOOKS } from '../webhooks/webhook-settings';

/**
 * Every environment variable Carrel reads, in one zod schema: the start checks it (every problem at once),
 * `--print-config` prints it with secrets masked, and the README's configuration table is generated from it
 * (`npm run docs:config`). A variable absent here is not read anywhere.
 */

/** What the docs and --print-config say of a variable besides its value. */
export interface VariableMeta {
  /** The README's section for the variable. */
  group: string;
  description: string;
  /** The default as the docs state it. */
  default: string;
  /** Masked by --print-config: only whether it is set, and its length. */
  secret?: boolean;
}

const described = <T extends z.ZodType>(schema: T, meta: VariableMeta): T => schema.meta({ carrel: meta }) as T;

/** A variable's metadata, as registered with its schema. */
export function metaOf(schema: z.ZodType): VariableMeta {
  return (schema.meta() as { carrel: VariableMeta }).carrel;
}

const unset = (raw: string | undefined): raw is undefined => raw === undefined || raw === '';

/** A whole number from `min` (default 0) to `max`; unset or empty means `fallback`. */
function int(fallback: number, meta: Omit<VariableMeta, 'default'>, range: { min?: number; max?: number } = {}) {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = range;
  const schema = z.string().optional().transform((raw, ctx) => {
    if (unset(raw)) return fallback;
    if (!/^\d{1,15}$/.test(raw)) {
      ctx.addIssue({ code: 'custom', message: `must be a non-negative integer, got "${clip(raw)}"` });
      return z.NEVER;
    }
    const n = Number(raw);
    if (n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: max === Number.MAX_SAFE_INTEGER ? `must be at least ${min}, got ${n}` : `must be between ${min} and ${max}, got ${n}` });
      return z.NEVER;
    }
    return n;
  });
  return described(schema, { ...meta, default: String(fallback) });
}

/** true or false; unset means `fallback`, or undefined where the default depends on production (resolved by loadConfig). */
function bool<F extends boolean | undefined>(fallback: F, meta: VariableMeta) {
  const schema = z.string().optional().transform((raw, ctx): boolean | F => {
    if (unset(raw)) return fallback;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    ctx.addIssue({ code: 'custom', message: `must be true or false, got "${clip(raw)}"` });
    return z.NEVER;
  });
  return described(schema, meta);
}

/** Free text; unset or empty means undefined. */
function text(meta: VariableMeta) {
  return described(z.string().optional().transform((raw) => (unset(raw) ? undefined : raw)), meta);
}

/** One of `values`; unset means undefined (the default is resolved by loadConfig). */
function oneOf<const V extends readonly string[]>(values: V, meta: VariableMeta) {
  const schema = z.string().optional().transform((raw, ctx): V[number] | undefined => {
    if (unset(raw)) return undefined;
    if ((values as readonly string[]).includes(raw)) return raw as V[number];
    ctx.addIssue({ code: 'custom', message: `must be one of ${values.join(', ')}, got "${clip(raw)}"` });
    return z.NEVER;
  });
  return described(schema, meta);
}

/**
 * A URL of one of `protocols`; unset means undefined. Never quoted back: a database's or a collector's address may
 * carry credentials.
 */
function url(protocols: string[], expected: string, meta: VariableMeta) {
  const schema = z.string().optional().transform((raw, ctx) => {
    if (unset(raw)) return undefined;
    if (!URL.canParse(raw) || !protocols.includes(new URL(raw).protocol)) {
      ctx.addIssue({ code: 'custom', message: `must be ${expected} (the value is not repeated: it may hold a password)` });
      return z.NEVER;
    }
    return raw;
  });
  return described(schema, meta);
}

const httpUrl = (meta: VariableMeta) => url(['http:', 'https:'], 'an http:// or https:// URL (e.g. http://127.0.0.1:4318)', meta);
/** node-postgres reads URLs only: a keyword/value string (`host=db password=...`) would fail later, quoted in the error. */
const postgresUrl = (meta: VariableMeta) => url(['postgres:', 'postgresql:', 'socket:'], 'a postgres:// URL (e.g. postgres://carrel:PASSWORD@db:5432/carrel)', meta);

/** A value quoted back in an error is cut short: the message is one line of the start's output. */
const clip = (raw: string) => (raw.length > 40 ? `${raw.slice(0, 40)}...` : raw).replace(/[\u0000-\u001f]/g, '?');

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const SERVER = 'Server';
const DATABASE = 'Database';
const AUTH = 'Sign-in and tokens';
const LIMITS = 'Request limits';
const EVENTS = 'Events and subscriptions';
const HOOKS = 'Webhooks';
const FILES = 'Attachments';
const OPS = 'Logs, metrics and tracing';

export const ENV_SCHEMA = z.object({
  NODE_ENV: text({ group: SERVER, default: 'unset', description: '`production` turns on production mode: no introspection or stack traces, JSON logs, a required token secret, no demo data unless asked' }),
  PORT: int(4000, { group: SERVER, description: 'HTTP port of GraphQL, subscriptions, health and attachments (0 picks a free one)' }, { max: 65535 }),
  CARREL_TRUST_PROXY: text({
    group: SERVER, default: 'unset',
    description: "the reverse proxies in front whose `X-Forwarded-For` names the client (`true`, a hop count, or addresses/subnets such as `loopback, 10.0.0.0/8`, as express's `trust proxy`); unset, the client is the TCP peer",
  }),
  CARREL_DATA_DIR: text({ group: SERVER, default: '`.carrel`', description: 'folder of the embedded server\'s data, the development token secret and the demo password file' }),
  CARREL_SEED_DEMO: bool(undefined, { group: SERVER, default: '`true` in development, `false` in production', description: 'demo data on an empty database' }),
  CARREL_ADMIN_PASSWORD: text({ group: SERVER, default: 'generated', secret: true, description: 'password of the demo operators when the demo is seeded, and of `npm run carrel -- create-admin` when not typed in' }),
  CARREL_API_KEY: text({ group: SERVER, default: 'unset', secret: true, description: 'the API key the command-line jobs (`npm run purge`, `sis:load`, `bursar:export`) act as' }),

  DATABASE_URL: postgresUrl({ group: DATABASE, default: 'unset: embedded server', secret: true, description: 'PostgreSQL to use; unset, Carrel starts an embedded PostgreSQL server in the data folder (one instance only)' }),
  CARREL_PG_PORT: int(54329, { group: DATABASE, description: 'port of the embedded PostgreSQL server' }, { min: 1, max: 65535 }),
  CARREL_DB_POOL_SIZE: int(10, { group: DATABASE, description: 'database connections of the requests\' pool (each instance also holds one for LISTEN and one per running job)' }, { min: 1, max: 1000 }),
  CARREL_STATEMENT_TIMEOUT_MS: int(5000, { group: DATABASE, description: "a request's statement is cancelled after this (503 `TIMEOUT`); 0: none" }),
  CARREL_JOB_STATEMENT_TIMEOUT_MS: int(0, { group: DATABASE, description: 'the same for jobs (migrations, seeding); 0: none' }),
  CARREL_IDLE_IN_TRANSACTION_TIMEOUT_MS: int(60_000, { group: DATABASE, description: "a request's transaction left idle this long is ended; 0: never" }),
  CARREL_DB_CONNECT_TIMEOUT_MS: int(5000, { group: DATABASE, description: 'longest wait for a database connection; 0: no limit' }),

  CARREL_TOKEN_SECRET: text({
    group: AUTH, default: 'development: generated, kept in the data folder; production: **required**', secret: true,
    description: 'HMAC secret of the bearer tokens, at least 32 bytes in production; the same on every instance',
  }),
  CARREL_TOKEN_TTL_SECONDS: int(8 * 3600, { group: AUTH, description: 'token lifetime' }, { min: 60 }),
  CARREL_LOGIN_FREE_FAILURES: int(5, { group: AUTH, description: 'failed sign-ins of an account before each further one makes the next wait' }),
  CARREL_LOGIN_MAX_FAILURES: int(10, { group: AUTH, description: 'consecutive failures that lock the account' }, { min: 1 }),
  CARREL_LOGIN_LOCKOUT_SECONDS: int(3600, { group: AUTH, description: 'how long a lockout lasts; 0: until an administrator unlocks it' }),
  CARREL_LOGIN_DELAY_MS: int(1000, { group: AUTH, description: 'the first wait, doubling per failure' }),
  CARREL_LOGIN_MAX_DELAY_MS: int(300_000, { group: AUTH, description: 'the longest wait' }),
  CARREL_LOGIN_FAILURE_WINDOW_SECONDS: int(86_400, { group: AUTH, description: "how long an account's failures are remembered without a success" }, { min: 1 }),
  CARREL_LOGIN_ADDRESS_FREE_FAILURES: int(50, { group: AUTH, description: 'failures from one client address before its attempts wait (an address never locks)' }),
  CARREL_LOGIN_ADDRESS_WINDOW_SECONDS: int(3600, { group: AUTH, description: "how long an address's failures are remembered" }, { min: 1 }),
  CARREL_HASH_CONCURRENCY: int(1, { group: AUTH, description: 'argon2 hashes and verifications run at once' }, { min: 1, max: 64 }),
  CARREL_HASH_QUEUE: int(8, { group: AUTH, description: 'how many more may wait for a turn (beyond: 429)' }),

  CARREL_BUDGET_PER_SECOND: int(100_000, { group: LIMITS, description: "an operator's query budget in cost points per second; 0 turns budgets off" }),
  CARREL_BUDGET_BURST: int(2 * QUERY_LIMITS.maxCost, { group: LIMITS, description: 'what an idle operator may spend at once; at least the costliest query allowed' }, { min: QUERY_LIMITS.maxCost }),
  CARREL_ANONYMOUS_BUDGET_PER_SECOND: int(10_000, { group: LIMITS, description: 'the budget of a client without credentials, per address' }, { min: 1 }),
  CARREL_ANONYMOUS_BUDGET_BURST: int(QUERY_LIMITS.maxCost, { group: LIMITS, description: 'its burst; at least the costliest query allowed' }, { min: QUERY_LIMITS.maxCost }),
  CARREL_BUDGET_MAX_WAIT_MS: int(5000, { group: LIMITS, description: 'longest wait for the budget before 429' }),

  CARREL_EVENT_RETENTION_DAYS: int(30, { group: EVENTS, description: 'days events are kept in the outbox' }, { min: 1 }),
  CARREL_SUBSCRIBER_BUFFER: int(10_000, { group: EVENTS, description: 'events that may wait for one slow subscriber (beyond: closed with 4008)' }, { min: 1 }),
  CARREL_MAX_SUBSCRIPTIONS_PER_CONNECTION: int(20, { group: EVENTS, description: 'subscriptions per connection' }, { min: 1 }),
  CARREL_SUBSCRIPTION_RECHECK_SECONDS: int(30, { group: EVENTS, description: "how often a connection's credentials are read again" }, { min: 1 }),
  CARREL_EVENT_POLL_MS: int(2000, { group: EVENTS, description: 'how often each instance reads the outbox without a notification' }, { min: 10 }),

  CARREL_WEBHOOK_ALLOW_HTTP: bool(undefined, { group: HOOKS, default: '`true` in development, `false` in production', description: 'accept plain http to a loopback host' }),
  CARREL_WEBHOOK_TIMEOUT_MS: int(WEBHOOKS.timeoutMs, { group: HOOKS, description: 'per-request timeout' }, { min: 1 }),
  CARREL_WEBHOOK_RETRY_BASE_MS: int(WEBHOOKS.retryBaseMs, { group: HOOKS, description: 'first retry delay, doubling' }, { min: 1 }),
  CARREL_WEBHOOK_RETRY_MAX_MS: int(WEBHOOKS.retryMaxMs, { group: HOOKS, description: 'longest delay between attempts (at least the base)' }, { min: 1 }),
  CARREL_WEBHOOK_RETRY_WINDOW_SECONDS: int(WEBHOOKS.retryWindowMs / 1000, { group: HOOKS, description: 'how long the head event may fail before the webhook is disabled' }, { min: 1 }),
  CARREL_WEBHOOK_POLL_MS: int(WEBHOOKS.pollMs, { group: HOOKS, description: 'how often each instance looks for work without a notification' }, { min: 10 }),
  CARREL_WEBHOOK_CONCURRENCY: int(WEBHOOKS.concurrency, { group: HOOKS, description: 'webhooks one instance delivers to at once' }, { min: 1, max: 1000 }),

  CARREL_ATTACHMENT_MAX_BYTES: int(10 * 1024 * 1024, { group: FILES, description: 'the largest file accepted (beyond: 413); at most 256 MiB' }, { min: 1, max: 256 * 1024 * 1024 }),
  CARREL_ATTACHMENT_MAX_PER_USER: int(50, { group: FILES, description: 'files one user may have' }, { min: 1 }),

  CARREL_LOG_LEVEL: oneOf(LOG_LEVELS, { group: OPS, default: '`info`', description: 'the least severe log lines written' }),
  CARREL_LOG_FORMAT: oneOf(['json', 'pretty'] as const, { group: OPS, default: '`json` in production, `pretty` in development', description: 'JSON lines, or readable lines for a terminal' }),
  CARREL_LOG_SQL: bool(false, { group: OPS, default: 'false', description: 'log the text of every SQL statement at level debug (never its parameters); with `CARREL_LOG_LEVEL=debug`' }),
  CARREL_OBSERVE_REQUESTS: bool(true, { group: OPS, default: 'true', description: 'the per-request log line and request metrics; `false` only to measure what they cost (`npm run bench:observability`)' }),
  CARREL_METRICS_TOKEN: text({ group: OPS, default: 'unset', secret: true, description: 'bearer token that `/metrics` requires; unset (and no metrics port), `/metrics` is not served' }),
  CARREL_METRICS_PORT: int(0, { group: OPS, description: 'serve `/metrics` on this port instead, without a token unless one is set; 0: on the main port only' }, { max: 65535 }),
  CARREL_METRICS_HOST: text({ group: OPS, default: '`127.0.0.1`', description: 'address the metrics port listens on (`0.0.0.0` in a container)' }),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl({ group: OPS, default: 'unset: tracing off', description: 'OTLP/HTTP collector to send traces to; set, tracing is on' }),
  OTEL_SERVICE_NAME: text({ group: OPS, default: '`carrel`', description: 'service name on the traces' }),
});

export type Environment = z.output<typeof ENV_SCHEMA>;
export type VariableName = keyof typeof ENV_SCHEMA.shape;
