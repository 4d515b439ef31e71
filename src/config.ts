import path from 'node:path';
import { QUERY_LIMITS } from './server/query-limits';
import type { BudgetSettings } from './server/request-budget';
import { DEFAULT_WEBHOOK_SETTINGS as WEBHOOKS, WebhookSettings } from './webhooks/webhook-settings';

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

/** Readers of typed variables; a malformed value is recorded in `problems` (and the fallback used meanwhile). */
function reader(env: NodeJS.ProcessEnv, problems: string[]) {
  return {
    int(name: string, fallback: number): number {
      const raw = env[name];
      if (raw === undefined || raw === '') return fallback;
      const n = Number(raw);
      if (Number.isInteger(n) && n >= 0) return n;
      problems.push(`${name} must be a non-negative integer, got "${raw}"`);
      return fallback;
    },
    bool(name: string, fallback: boolean): boolean {
      const raw = env[name];
      if (raw === undefined || raw === '') return fallback;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      problems.push(`${name} must be true or false, got "${raw}"`);
      return fallback;
    },
  };
}

/** Tokens must verify on every instance behind a load balancer, and an HS256 secret shorter than its hash is guessable offline. */
export const MIN_TOKEN_SECRET_BYTES = 32;

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
 * Reads and checks the environment; throws a ConfigError listing every problem. `tool` is for `npm run migrate` and
 * `npm run seed`, which sign no tokens and so need no token secret.
 */
export function loadConfig(env = process.env, use: 'server' | 'tool' = 'server'): Config {
  const problems: string[] = [];
  const { int, bool } = reader(env, problems);
  const production = env.NODE_ENV === 'production';
  const config: Config = {
    port: int('PORT', 4000),
    production,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.CARREL_DATA_DIR || '.carrel'),
    embeddedPgPort: int('CARREL_PG_PORT', 54329),
    adminPassword: env.CARREL_ADMIN_PASSWORD || undefined,
    tokenSecret: env.CARREL_TOKEN_SECRET || undefined,
    tokenTtlSeconds: int('CARREL_TOKEN_TTL_SECONDS', 8 * 3600),
    // Demo operators share one password: on by default where one tries Carrel out, never unasked in production.
    seedDemo: bool('CARREL_SEED_DEMO', !production),
    dbPoolSize: int('CARREL_DB_POOL_SIZE', 10),
    database: {
      statementTimeoutMs: int('CARREL_STATEMENT_TIMEOUT_MS', 5000),
      jobStatementTimeoutMs: int('CARREL_JOB_STATEMENT_TIMEOUT_MS', 0),
      idleInTransactionTimeoutMs: int('CARREL_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60_000),
      connectTimeoutMs: int('CARREL_DB_CONNECT_TIMEOUT_MS', 5000),
    },
    login: {
      freeFailures: int('CARREL_LOGIN_FREE_FAILURES', 5),
      maxFailures: int('CARREL_LOGIN_MAX_FAILURES', 10),
      lockoutSeconds: int('CARREL_LOGIN_LOCKOUT_SECONDS', 3600),
      delayMs: int('CARREL_LOGIN_DELAY_MS', 1000),
      maxDelayMs: int('CARREL_LOGIN_MAX_DELAY_MS', 300_000),
      failureWindowSeconds: int('CARREL_LOGIN_FAILURE_WINDOW_SECONDS', 86_400),
      addressFreeFailures: int('CARREL_LOGIN_ADDRESS_FREE_FAILURES', 50),
      addressWindowSeconds: int('CARREL_LOGIN_ADDRESS_WINDOW_SECONDS', 3600),
    },
    // One at a time: an argon2 verification (64 MiB, 4 lanes) already keeps both cores of the reference machine busy
    // for about 180 ms; running more at once only makes each slower and takes more of libuv's 4 threads.
    hashConcurrency: Math.max(1, int('CARREL_HASH_CONCURRENCY', 1)),
    hashQueue: int('CARREL_HASH_QUEUE', 8),
    trustProxy: trustProxy(env.CARREL_TRUST_PROXY),
    budget: null,
    events: {
      retentionDays: int('CARREL_EVENT_RETENTION_DAYS', 30),
      subscriberBuffer: int('CARREL_SUBSCRIBER_BUFFER', 10_000),
      maxSubscriptionsPerConnection: int('CARREL_MAX_SUBSCRIPTIONS_PER_CONNECTION', 20),
      recheckSeconds: int('CARREL_SUBSCRIPTION_RECHECK_SECONDS', 30),
      pollMs: int('CARREL_EVENT_POLL_MS', 2000),
    },
    webhooks: {
      // A receiver on this machine over plain http is how one tries webhooks out; production needs https unless asked.
      allowHttp: bool('CARREL_WEBHOOK_ALLOW_HTTP', !production),
      timeoutMs: int('CARREL_WEBHOOK_TIMEOUT_MS', WEBHOOKS.timeoutMs),
      retryBaseMs: int('CARREL_WEBHOOK_RETRY_BASE_MS', WEBHOOKS.retryBaseMs),
      retryMaxMs: int('CARREL_WEBHOOK_RETRY_MAX_MS', WEBHOOKS.retryMaxMs),
      retryWindowMs: int('CARREL_WEBHOOK_RETRY_WINDOW_SECONDS', WEBHOOKS.retryWindowMs / 1000) * 1000,
      pollMs: int('CARREL_WEBHOOK_POLL_MS', WEBHOOKS.pollMs),
      concurrency: int('CARREL_WEBHOOK_CONCURRENCY', WEBHOOKS.concurrency),
    },
    attachments: {
      maxBytes: int('CARREL_ATTACHMENT_MAX_BYTES', 10 * 1024 * 1024),
      maxPerUser: int('CARREL_ATTACHMENT_MAX_PER_USER', 50),
    },
  };
  // A bytea value and a Buffer top out near 1 GB; the whole file is held in memory while it is stored.
  if (config.attachments.maxBytes < 1 || config.attachments.maxBytes > 256 * 1024 * 1024) problems.push('CARREL_ATTACHMENT_MAX_BYTES must be between 1 and 268435456 (256 MiB)');
  if (config.attachments.maxPerUser < 1) problems.push('CARREL_ATTACHMENT_MAX_PER_USER must be at least 1');
  if (config.webhooks.timeoutMs < 1 || config.webhooks.retryBaseMs < 1 || config.webhooks.pollMs < 10 || config.webhooks.concurrency < 1) {
    problems.push('CARREL_WEBHOOK_TIMEOUT_MS, CARREL_WEBHOOK_RETRY_BASE_MS and CARREL_WEBHOOK_CONCURRENCY must be at least 1, CARREL_WEBHOOK_POLL_MS at least 10');
  }
  if (config.webhooks.retryMaxMs < config.webhooks.retryBaseMs) problems.push('CARREL_WEBHOOK_RETRY_MAX_MS must be at least CARREL_WEBHOOK_RETRY_BASE_MS');
  if (config.events.retentionDays < 1) problems.push('CARREL_EVENT_RETENTION_DAYS must be at least 1');
  if (config.events.subscriberBuffer < 1) problems.push('CARREL_SUBSCRIBER_BUFFER must be at least 1');
  if (config.events.recheckSeconds < 1) problems.push('CARREL_SUBSCRIPTION_RECHECK_SECONDS must be at least 1');
  if (config.events.pollMs < 10) problems.push('CARREL_EVENT_POLL_MS must be at least 10');
  // 100,000 points a second is about 16 users pages of 50 (6,300 points each) per operator, sustained. The burst, what
  // an idle client may spend at once, is two of the costliest queries allowed (QUERY_LIMITS.maxCost): a larger one let
  // a client that had been idle stall everyone else for 150 ms with eight refused 1,500-field queries sent together.
  // Without credentials, a tenth of the rate per address: ten small requests or one login (10,000: argon2) a second.
  const perSecond = int('CARREL_BUDGET_PER_SECOND', 100_000);
  if (perSecond > 0) {
    config.budget = {
      operator: { ratePerSecond: perSecond, burst: int('CARREL_BUDGET_BURST', 2 * QUERY_LIMITS.maxCost) },
      anonymous: { ratePerSecond: int('CARREL_ANONYMOUS_BUDGET_PER_SECOND', 10_000), burst: int('CARREL_ANONYMOUS_BUDGET_BURST', QUERY_LIMITS.maxCost) },
      maxWaitMs: int('CARREL_BUDGET_MAX_WAIT_MS', 5000),
    };
    for (const [name, allowance] of [['CARREL_BUDGET', config.budget.operator], ['CARREL_ANONYMOUS_BUDGET', config.budget.anonymous]] as const) {
      if (allowance.ratePerSecond < 1) problems.push(`${name}_PER_SECOND must be at least 1 (0 for CARREL_BUDGET_PER_SECOND turns budgets off)`);
      if (allowance.burst < QUERY_LIMITS.maxCost) problems.push(`${name}_BURST must be at least ${QUERY_LIMITS.maxCost}, the cost of the costliest query allowed`);
    }
  }
  if (use === 'server') problems.push(...productionProblems(config));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
