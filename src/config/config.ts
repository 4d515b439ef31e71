import path from 'node:path';
import type { z } from 'zod';
import type { BudgetSettings } from '../server/request-budget';
import type { WebhookSettings } from '../webhooks/webhook-settings';
import { ENV_SCHEMA, Environment, LOG_LEVELS } from './variables';

/** Every environment variable Carrel reads, read and validated once. */
export interface Config {
  port: number;
  production: boolean;
  /** DATABASE_URL; absent means "run the embedded PostgreSQL server". */
  databaseUrl: string | undefined;
  /** Project-local folder for the embedded server's data, the token secret and the admin password. */
  dataDir: string;
  embeddedPgPort: number;
  adminPassword: string | undefined;
  tokenSecret: string | undefined;
  tokenTtlSeconds: number;
  seedDemo: boolean;
  dbPoolSize: number;
  /** Database session limits of the server's requests and of jobs (migrations, seeding), in ms; 0 means none (src/db/connect.ts). */
  database: { statementTimeoutMs: number; jobStatementTimeoutMs: number; idleInTransactionTimeoutMs: number; connectTimeoutMs: number };
  /** Login throttling and lockout (src/auth/login-guard.ts, src/auth/throttle.ts). */
  login: LoginLimits;
  /** argon2 hashes and verifications run at once, and how many may wait for a turn (src/auth/hash-gate.ts). */
  hashConcurrency: number;
  hashQueue: number;
  /** Each client's query budget, in cost points (src/server/request-budget.ts); null when CARREL_BUDGET_PER_SECOND is 0. */
  budget: BudgetSettings | null;
  /** express's 'trust proxy': false (the socket's address is the client's), true, a hop count, or addresses/subnets of trusted proxies. */
  trustProxy: boolean | number | string;
  /** Change events and subscriptions (src/events/, src/server/subscriptions.ts). */
  events: EventSettings;
  /** Delivery of webhooks (src/webhooks/). */
  webhooks: WebhookSettings;
  /** Files attached to users (src/attachments/). */
  attachments: AttachmentSettings;
  /** The log (src/observability/logger.ts). */
  logging: { level: (typeof LOG_LEVELS)[number]; format: 'json' | 'pretty'; sql: boolean; requests: boolean };
  /** `/metrics` (src/observability/metrics-route.ts): served only with a token, or on a port of its own. */
  metrics: { token: string | undefined; port: number; host: string };
  /** OpenTelemetry (src/observability/tracing.ts): on when an endpoint is set. */
  tracing: { endpoint: string | undefined; serviceName: string };
}

export interface AttachmentSettings {
  /** The largest file accepted, in bytes (CARREL_ATTACHMENT_MAX_BYTES, default 10 MiB): a larger upload is refused with 413. */
  maxBytes: number;
  /** Most files one user may have attached (CARREL_ATTACHMENT_MAX_PER_USER, default 50). */
  maxPerUser: number;
}

export interface EventSettings {
  /** Days events are kept in the outbox; a cursor from before that is refused with CURSOR_EXPIRED. */
  retentionDays: number;
  /**
   * Events that may wait for one slow subscriber before its connection is closed. Above the largest transaction's
   * events (an SIS batch writes up to 3,000), so that one big change never cuts off a subscriber keeping up.
   */
  subscriberBuffer: number;
  /** Subscriptions one connection may hold. */
  maxSubscriptionsPerConnection: number;
  /** How often (s) every connection's credentials are read again. */
  recheckSeconds: number;
  /** How often (ms) the outbox is read when no notification came (a notification lost with its connection). */
  pollMs: number;
}

/**
 * Failed sign-ins (and wrong current passwords in changePassword) are counted
 * per account (per identifier when it names no single user) and per client
 * address. After `freeFailures` each further failure makes the next attempt
 * wait, `delayMs` doubling up to `maxDelayMs`; `maxFailures` consecutive
 * failures lock the account for `lockoutSeconds` (0: until an administrator
 * unlocks it). The address only waits, never locks.
 */
export interface LoginLimits {
  freeFailures: number;
  maxFailures: number;
  lockoutSeconds: number;
  delayMs: number;
  maxDelayMs: number;
  /** How long an account's failures are remembered without a success (a fixed window from the first). */
  failureWindowSeconds: number;
  addressFreeFailures: number;
  addressWindowSeconds: number;
}

/** CARREL_TRUST_PROXY: unset or "false", "true", a hop count, or a comma-separated list (e.g. "loopback, 10.0.0.0/8"). */
function trustProxy(raw: string | undefined): boolean | number | string {
  if (!raw || raw === 'false') return false;
  if (raw === 'true') return true;
  return /^\d+$/.test(raw) ? Number(raw) : raw;
}

/** Every problem of the environment at once, so that one failed start lists them all. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

/** Tokens must verify on every instance behind a load balancer, and an HS256 secret shorter than its hash is guessable offline. */
export const MIN_TOKEN_SECRET_BYTES = 32;

/** A metrics token is a bearer credential too: short ones are guessable from outside. */
export const MIN_METRICS_TOKEN_BYTES = 16;

/** What production refuses that development allows: no shared token secret (development keeps one in the data folder). */
function productionProblems(config: Config): string[] {
  if (!config.production) return [];
  if (config.tokenSecret === undefined) {
    return [
      `CARREL_TOKEN_SECRET is required in production: the same random secret of at least ${MIN_TOKEN_SECRET_BYTES} bytes on every instance `
        + `(e.g. the output of \`openssl rand -base64 48\`), so that instances accept each other's tokens`,
    ];
  }
  const bytes = Buffer.byteLength(config.tokenSecret, 'utf8');
  if (bytes < MIN_TOKEN_SECRET_BYTES) {
    return [`CARREL_TOKEN_SECRET must have at least ${MIN_TOKEN_SECRET_BYTES} bytes in production, it has ${bytes} (e.g. \`openssl rand -base64 48\`)`];
  }
  return [];
}

/**
 * The environment parsed by the schema (src/config/variables.ts), every problem listed as "NAME what is wrong". Each
 * variable is parsed on its own, so the valid ones still give values (and the checks across variables their
 * problems); an invalid one is named in `invalid` and takes its default meanwhile.
 */
export function parseEnvironment(env: NodeJS.ProcessEnv): { values: Environment; problems: string[]; invalid: Set<string> } {
  const problems: string[] = [];
  const invalid = new Set<string>();
  const values = Object.fromEntries(
    Object.entries(ENV_SCHEMA.shape).map(([name, schema]) => {
      const one = (schema as z.ZodType).safeParse(env[name]);
      if (one.success) return [name, one.data];
      invalid.add(name);
      problems.push(...one.error.issues.map((issue) => `${name} ${issue.message}`));
      return [name, (schema as z.ZodType).safeParse(undefined).data];
    }),
  ) as Environment;
  return { values, problems, invalid };
}

/**
 * CARREL_* variables the schema does not declare: a misspelt one (CARREL_LOG_LEVLE) would otherwise change nothing
 * without a word. CARREL_TEST_* belong to the tests.
 */
export function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env).filter((name) => name.startsWith('CARREL_') && !name.startsWith('CARREL_TEST_') && !Object.hasOwn(ENV_SCHEMA.shape, name)).sort();
}

/** The defaults that depend on production mode, resolved: what --print-config shows and loadConfig uses. */
export function resolvedEnvironment(values: Environment): Environment {
  const production = values.NODE_ENV === 'production';
  return {
    ...values,
    // Demo operators share one password: on by default where one tries Carrel out, never unasked in production.
    CARREL_SEED_DEMO: values.CARREL_SEED_DEMO ?? !production,
    // A receiver on this machine over plain http is how one tries webhooks out; production needs https unless asked.
    CARREL_WEBHOOK_ALLOW_HTTP: values.CARREL_WEBHOOK_ALLOW_HTTP ?? !production,
    CARREL_LOG_LEVEL: values.CARREL_LOG_LEVEL ?? 'info',
    // Production logs are collected and searched; a terminal is read.
    CARREL_LOG_FORMAT: values.CARREL_LOG_FORMAT ?? (production ? 'json' : 'pretty'),
    CARREL_METRICS_HOST: values.CARREL_METRICS_HOST ?? '127.0.0.1',
    CARREL_DATA_DIR: values.CARREL_DATA_DIR ?? '.carrel',
    OTEL_SERVICE_NAME: values.OTEL_SERVICE_NAME ?? 'carrel',
  };
}

/**
 * Reads and checks the environment; throws a ConfigError listing every problem. `tool` is for `npm run migrate` and
 * `npm run seed`, which sign no tokens and so need no token secret.
 */
export function loadConfig(env = process.env, use: 'server' | 'tool' = 'server'): Config {
  const parsed = parseEnvironment(env);
  const problems = [...parsed.problems];
  const e = resolvedEnvironment(parsed.values);
  const production = e.NODE_ENV === 'production';
  const config: Config = {
    port: e.PORT,
    production,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.CARREL_DATA_DIR!),
    embeddedPgPort: e.CARREL_PG_PORT,
    adminPassword: e.CARREL_ADMIN_PASSWORD,
    tokenSecret: e.CARREL_TOKEN_SECRET,
    tokenTtlSeconds: e.CARREL_TOKEN_TTL_SECONDS,
    seedDemo: e.CARREL_SEED_DEMO!,
    dbPoolSize: e.CARREL_DB_POOL_SIZE,
    database: {
      statementTimeoutMs: e.CARREL_STATEMENT_TIMEOUT_MS,
      jobStatementTimeoutMs: e.CARREL_JOB_STATEMENT_TIMEOUT_MS,
      idleInTransactionTimeoutMs: e.CARREL_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      connectTimeoutMs: e.CARREL_DB_CONNECT_TIMEOUT_MS,
    },
    login: {
      freeFailures: e.CARREL_LOGIN_FREE_FAILURES,
      maxFailures: e.CARREL_LOGIN_MAX_FAILURES,
      lockoutSeconds: e.CARREL_LOGIN_LOCKOUT_SECONDS,
      delayMs: e.CARREL_LOGIN_DELAY_MS,
      maxDelayMs: e.CARREL_LOGIN_MAX_DELAY_MS,
      failureWindowSeconds: e.CARREL_LOGIN_FAILURE_WINDOW_SECONDS,
      addressFreeFailures: e.CARREL_LOGIN_ADDRESS_FREE_FAILURES,
      addressWindowSeconds: e.CARREL_LOGIN_ADDRESS_WINDOW_SECONDS,
    },
    // One at a time by default: an argon2 verification (64 MiB, 4 lanes) already keeps both cores of the reference
    // machine busy for about 180 ms; running more at once only makes each slower and takes more of libuv's 4 threads.
    hashConcurrency: e.CARREL_HASH_CONCURRENCY,
    hashQueue: e.CARREL_HASH_QUEUE,
    trustProxy: trustProxy(e.CARREL_TRUST_PROXY),
    // 100,000 points a second is about 16 users pages of 50 (6,300 points each) per operator, sustained. The burst, what
    // an idle client may spend at once, is two of the costliest queries allowed (QUERY_LIMITS.maxCost): a larger one let
    // a client that had been idle stall everyone else for 150 ms with eight refused 1,500-field queries sent together.
    // Without credentials, a tenth of the rate per address: ten small requests or one login (10,000: argon2) a second.
    budget: e.CARREL_BUDGET_PER_SECOND === 0 ? null : {
      operator: { ratePerSecond: e.CARREL_BUDGET_PER_SECOND, burst: e.CARREL_BUDGET_BURST },
      anonymous: { ratePerSecond: e.CARREL_ANONYMOUS_BUDGET_PER_SECOND, burst: e.CARREL_ANONYMOUS_BUDGET_BURST },
      maxWaitMs: e.CARREL_BUDGET_MAX_WAIT_MS,
    },
    events: {
      retentionDays: e.CARREL_EVENT_RETENTION_DAYS,
      subscriberBuffer: e.CARREL_SUBSCRIBER_BUFFER,
      maxSubscriptionsPerConnection: e.CARREL_MAX_SUBSCRIPTIONS_PER_CONNECTION,
      recheckSeconds: e.CARREL_SUBSCRIPTION_RECHECK_SECONDS,
      pollMs: e.CARREL_EVENT_POLL_MS,
    },
    webhooks: {
      allowHttp: e.CARREL_WEBHOOK_ALLOW_HTTP!,
      timeoutMs: e.CARREL_WEBHOOK_TIMEOUT_MS,
      retryBaseMs: e.CARREL_WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: e.CARREL_WEBHOOK_RETRY_MAX_MS,
      retryWindowMs: e.CARREL_WEBHOOK_RETRY_WINDOW_SECONDS * 1000,
      pollMs: e.CARREL_WEBHOOK_POLL_MS,
      concurrency: e.CARREL_WEBHOOK_CONCURRENCY,
    },
    attachments: { maxBytes: e.CARREL_ATTACHMENT_MAX_BYTES, maxPerUser: e.CARREL_ATTACHMENT_MAX_PER_USER },
    logging: { level: e.CARREL_LOG_LEVEL!, format: e.CARREL_LOG_FORMAT!, sql: e.CARREL_LOG_SQL, requests: e.CARREL_OBSERVE_REQUESTS },
    metrics: { token: e.CARREL_METRICS_TOKEN, port: e.CARREL_METRICS_PORT, host: e.CARREL_METRICS_HOST! },
    tracing: { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME! },
  };
  if (config.webhooks.retryMaxMs < config.webhooks.retryBaseMs) problems.push('CARREL_WEBHOOK_RETRY_MAX_MS must be at least CARREL_WEBHOOK_RETRY_BASE_MS');
  if (config.metrics.token !== undefined && Buffer.byteLength(config.metrics.token) < MIN_METRICS_TOKEN_BYTES) {
    problems.push(`CARREL_METRICS_TOKEN must have at least ${MIN_METRICS_TOKEN_BYTES} bytes (e.g. \`openssl rand -base64 24\`)`);
  }
  if (use === 'server') problems.push(...productionProblems(config));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** What the start would refuse: the schema's problems and loadConfig's checks across variables and for production. */
export function configProblems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}
