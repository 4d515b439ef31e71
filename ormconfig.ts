import 'reflect-metadata';
import { DataSource, DataSourceOptions } from 'typeorm';
import { types } from 'pg';
import { entities } from './src/db/entities';
import { migrations } from './src/db/migrations';
import { sqlLogger } from './src/db/sql-logger';

// A DATE column is a calendar day, not an instant: keep it as 'YYYY-MM-DD'
// instead of letting pg turn it into a Date at local midnight.
types.setTypeParser(types.builtins.DATE, (value) => value);

/**
 * Limits of every session of a pool (0 or absent: none). The server's pool has short ones, so one slow statement or a
 * stuck transaction cannot hold a connection for long; jobs (migrations, seeding) have their own (src/db/connect.ts).
 */
export interface SessionLimits {
  poolSize?: number;
  /** PostgreSQL's statement_timeout: a statement running longer is cancelled (SQLSTATE 57014), lock waits included. */
  statementTimeoutMs?: number;
  /** PostgreSQL's idle_in_transaction_session_timeout: a session idle inside a transaction this long is ended, its locks released. */
  idleInTransactionTimeoutMs?: number;
  /** How long a statement waits for a connection (a free one of the pool, or a new one) before failing. */
  connectTimeoutMs?: number;
}

/** The one DataSource definition: the app, the tests and the TypeORM CLI all build theirs here. */
export function dataSourceOptions(url: string, limits: SessionLimits = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    logger: sqlLogger,
    logging: ['query'],
    connectTimeoutMS: limits.connectTimeoutMs || undefined,
    // Passed to pg's Pool and each Client: the timeouts travel in the connection's start-up packet, so every session
    // has them from its first statement; keepAlive lets the OS notice a server that vanished without closing the socket.
    extra: {
      max: limits.poolSize ?? 10,
      statement_timeout: limits.statementTimeoutMs || undefined,
      idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs || undefined,
      keepAlive: true,
      // The planner's default (4) prices a random read as four sequential ones, as on a spinning disk; Carrel's tables
      // are read from memory or SSD, where 1.1 is the usual setting. With 4, counting the users with an active block
      // scanned all 100,000 users instead of looking up the 2,000 blocked ones by primary key (40 ms against 4 ms).
      // work_mem: the analysts' groupings hash a row per user (userCounts by ROLE_TYPE: 100,000 user and role pairs),
      // which spilled to disk at the default 4 MB; 16 MB per sort or hash node, on a pool of 10, keeps them in memory.
      options: '-c random_page_cost=1.1 -c work_mem=16MB',
    },
  };
}

export function createDataSource(url: string, limits?: SessionLimits): DataSource {
  return new DataSource(dataSourceOptions(url, limits));
}

// The TypeORM CLI (`npx typeorm -d dist/ormconfig.js migration:show`) loads this default export.
export default createDataSource(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/carrel');
