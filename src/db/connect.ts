import { DataSource, MigrationExecutor } from 'typeorm';
import { redactedUrl } from '../config/redacted-url';
import { createDataSource, SessionLimits } from '../../ormconfig';
import { Config } from '../config';
import { reasonOf } from '../start-failure';
import { startEmbeddedPostgres } from './embedded';

export interface Database {
  dataSource: DataSource;
  /** Where the database is, without its password, for log lines. */
  description: string;
  close(): Promise<void>;
}

/** Whose sessions a pool holds: the server's requests, or a job's (migrations, `npm run seed`), whose statements may run long. */
export type DatabaseUse = 'requests' | 'job';

/**
 * The session limits of a use. A request's statement is cancelled after CARREL_STATEMENT_TIMEOUT_MS and a request's
 * transaction left idle is ended, so no request holds a connection or a lock for long; a job's statements run as long
 * as CARREL_JOB_STATEMENT_TIMEOUT_MS allows (none by default). Both wait CARREL_DB_CONNECT_TIMEOUT_MS at most for a
 * connection, so an unreachable or saturated database fails a request instead of hanging it.
 */
export function sessionLimits(config: Config, use: DatabaseUse): SessionLimits {
  const { statementTimeoutMs, jobStatementTimeoutMs, idleInTransactionTimeoutMs, connectTimeoutMs } = config.database;
  return use === 'requests'
    ? { poolSize: config.dbPoolSize, statementTimeoutMs, idleInTransactionTimeoutMs, connectTimeoutMs }
    : { poolSize: config.dbPoolSize, statementTimeoutMs: jobStatementTimeoutMs, connectTimeoutMs };
}

/**
 * Opens DATABASE_URL, or starts the embedded server when it is unset, and
 * applies pending migrations: start-up and `npm run migrate` share this path.
 * The pool has the session limits of `use`; migrations always run with a job's.
 * `migrate: false` only opens (`npm run carrel -- migrations` reports without applying).
 */
export async function openDatabase(
  config: Config, log: (line: string) => void = console.log, use: DatabaseUse = 'requests', options: { migrate?: boolean } = {},
): Promise<Database> {
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, log, use === 'job');
  const url = config.databaseUrl ?? embedded!.url;
  const dataSource = createDataSource(url, sessionLimits(config, use));
  const description = embedded ? `embedded PostgreSQL on port ${config.embeddedPgPort} (data in ${config.dataDir}/pgdata)` : redactedUrl(url);
  // What was being done, for the start-up failure line: the pg error alone ("ECONNREFUSED", "password authentication
  // failed") does not say which server, nor what to change.
  let doing = `cannot connect to ${description}`;
  let hint = embedded ? '' : ': check that PostgreSQL runs there and DATABASE_URL is right, or unset DATABASE_URL to use the embedded server';
  try {
    await dataSource.initialize();
    if (options.migrate !== false) {
      [doing, hint] = [`applying migrations to ${description} failed`, ''];
      await applyMigrations(url, config, log);
    }
  } catch (e) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    throw new Error(`${doing} (${reasonOf(e)})${hint}`);
  }
  return {
    dataSource,
    description,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
    },
  };
}

/** The advisory lock migrations run under (one fixed key in the database's lock space: Carrel takes no other). */
const MIGRATION_LOCK = `hashtext('carrel:migrations')`;

/**
 * Applies pending migrations on a connection of their own with a job's limits: a migration may rewrite a large table.
 * Several instances starting together on one database must not migrate it twice: the session that runs the
 * migrations first takes a PostgreSQL advisory lock, so the others wait for it and then find nothing pending. The
 * lock belongs to the session, so a process that dies holding it frees it. Waiting for it is a statement like any
 * other: CARREL_JOB_STATEMENT_TIMEOUT_MS, when set, bounds it too.
 */
async function applyMigrations(url: string, config: Config, log: (line: string) => void): Promise<void> {
  const migrator = createDataSource(url, { ...sessionLimits(config, 'job'), poolSize: 1 });
  await migrator.initialize();
  const session = migrator.createQueryRunner();
  try {
    const [{ locked }] = await session.query(`SELECT pg_try_advisory_lock(${MIGRATION_LOCK}) AS locked`);
    if (!locked) {
      log('migrations: waiting for another instance');
      await session.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
    }
    // The executor on that very session: DataSource.runMigrations would take a connection of its own from the pool.
    const executor = new MigrationExecutor(migrator, session);
    executor.transaction = 'each';
    const applied = await executor.executePendingMigrations();
    for (const m of applied) log(`applied migration ${m.name}`);
    if (applied.length === 0) log('migrations current');
  } finally {
    // Ending the session (destroy) releases the lock, on success or failure alike.
    await session.release();
    await migrator.destroy();
  }
}
