import 'reflect-metadata';
import { createTokenIssuer, resolveTokenSecret } from './auth/tokens';
import { loadConfig } from './config';
import { openDatabase } from './db/connect';
import { DEMO_OPERATORS, seedDemoIfEmpty } from './seed/demo-data';
import { createServer } from './server';

/**
 * `npm start`: configuration, database (embedded unless DATABASE_URL is set),
 * migrations, demo data on an empty database, then the HTTP server.
 */
async function main(): Promise<void> {
  const started = Date.now();
  const config = loadConfig();
  const log = (line: string) => console.log(`[carrel] ${line}`);
  const database = await openDatabase(config, log);
  log(`database: ${database.description}`);

  if (config.seedDemo) {
    const seed = await seedDemoIfEmpty(database.dataSource, { adminPassword: config.adminPassword, dataDir: config.dataDir, log });
    if (seed.seeded && seed.passwordGenerated) {
      log(`generated password for the demo operators: ${seed.adminPassword}  (shown once; saved in ${config.dataDir}/admin-password.txt)`);
    }
  }

  const tokens = createTokenIssuer(resolveTokenSecret(config.tokenSecret, config.dataDir), config.tokenTtlSeconds);
  const server = await createServer({ db: database.dataSource, tokens, production: config.production });
  const port = await server.listen(config.port);

  log(`ready in ${Date.now() - started} ms`);
  log(`GraphQL endpoint and Apollo Sandbox: http://localhost:${port}/graphql`);
  log(`health: http://localhost:${port}/health`);
  if (config.seedDemo) {
    log(`log in with: mutation { login(identifier: "admin", password: "<password>") { token } }`);
    log(`  the password is CARREL_ADMIN_PASSWORD if set, else in ${config.dataDir}/admin-password.txt`);
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

main().catch((e) => {
  console.error('[carrel] failed to start:', e instanceof Error ? e.message : String(e));
  process.exit(1);
});
