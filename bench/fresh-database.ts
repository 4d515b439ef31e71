import crypto from 'node:crypto';
import { freePort } from '../test/support/free-port';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../src/config';
import { Database, openDatabase } from '../src/db/connect';
import { startEmbeddedPostgres } from '../src/db/embedded';

/**
 * A throwaway database for one benchmark run: a new database on the
 * PostgreSQL at BENCH_ADMIN_URL / DATABASE_URL / 127.0.0.1:5432, or an
 * embedded server in a temporary folder when none answers. `dispose` drops it.
 */
const quiet = () => {};

export interface FreshDatabase {
  url: string;
  /** How PostgreSQL shows this database in its backends' process titles. */
  name: string;
  where: string;
  dispose(): Promise<void>;
}

export async function freshDatabase(log: (line: string) => void): Promise<FreshDatabase> {
  const adminUrl = new URL(process.env.BENCH_ADMIN_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  adminUrl.pathname = '/postgres';
  const admin = new Client({ connectionString: adminUrl.toString(), connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch {
    await admin.end().catch(quiet);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-bench-pg-'));
    // Run as root, the package starts PostgreSQL as the OS user `postgres`, which must reach the folder.
    fs.chmodSync(dataDir, 0o755);
    const remove = () => fs.rmSync(dataDir, { recursive: true, force: true });
    log(`no PostgreSQL at ${adminUrl.host}: starting an embedded one in ${dataDir}`);
    try {
      const server = await startEmbeddedPostgres(dataDir, await freePort(), quiet);
      return { url: server.url, name: 'carrel', where: `embedded PostgreSQL (${server.url.replace(/:[^:@/]*@/, ':***@')})`, dispose: async () => { await server.stop(); remove(); } };
    } catch (e) {
      remove();
      throw e;
    }
  }
  const name = `carrel_bench_${crypto.randomBytes(5).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl.toString());
  url.pathname = `/${name}`;
  const [{ server_version: version }] = (await admin.query('SHOW server_version')).rows;
  return {
    url: url.toString(),
    name,
    where: `database ${name} on ${adminUrl.host} (PostgreSQL ${version})`,
    dispose: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

export { freePort };

/** A fresh database for this run, opened and migrated, and how to get rid of it afterwards. */
export async function openFreshDatabase(log: (line: string) => void): Promise<{ database: Database; dispose: () => Promise<void> }> {
  const fresh = await freshDatabase(log);
  log(fresh.where);
  try {
    const database = await openDatabase({ ...loadConfig(), databaseUrl: fresh.url, dbPoolSize: 10 }, () => {});
    return { database, dispose: async () => { await database.close(); await fresh.dispose(); } };
  } catch (e) {
    await fresh.dispose();
    throw e;
  }
}
