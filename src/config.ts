import path from 'node:path';

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
}

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

export function loadConfig(env = process.env): Config {
  return {
    port: int('PORT', 4000),
    production: env.NODE_ENV === 'production',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.CARREL_DATA_DIR || '.carrel'),
    embeddedPgPort: int('CARREL_PG_PORT', 54329),
    adminPassword: env.CARREL_ADMIN_PASSWORD || undefined,
    tokenSecret: env.CARREL_TOKEN_SECRET || undefined,
    tokenTtlSeconds: int('CARREL_TOKEN_TTL_SECONDS', 8 * 3600),
    seedDemo: env.CARREL_SEED_DEMO !== 'false',
    dbPoolSize: int('CARREL_DB_POOL_SIZE', 10),
    database: {
      statementTimeoutMs: int('CARREL_STATEMENT_TIMEOUT_MS', 5000),
      jobStatementTimeoutMs: int('CARREL_JOB_STATEMENT_TIMEOUT_MS', 0),
      idleInTransactionTimeoutMs: int('CARREL_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60_000),
      connectTimeoutMs: int('CARREL_DB_CONNECT_TIMEOUT_MS', 5000),
    },
  };
}
