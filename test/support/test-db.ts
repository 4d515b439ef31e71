import crypto from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource, SessionLimits } from '../../ormconfig';

/**
 * A fresh database of its own for one test file, migrated with the checked-in
 * migrations (never `synchronize`), on the server globalSetup chose.
 */
export interface TestDatabase {
  url: string;
  dataSource: DataSource;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.CARREL_TEST_ADMIN_URL;
  if (!url) throw new Error('CARREL_TEST_ADMIN_URL is not set: run the tests through jest (globalSetup starts PostgreSQL)');
  return url;
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** `limits`: the pool's session limits (none by default; a test of timeouts sets its own). */
export async function createTestDatabase(limits: SessionLimits = {}): Promise<TestDatabase> {
  const name = `carrel_test_${crypto.randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const dataSource = createDataSource(url.toString(), { poolSize: 5, ...limits });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return {
    url: url.toString(),
    dataSource,
    async drop() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
