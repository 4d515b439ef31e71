import { createDataSource } from '../../ormconfig';
import type { Config } from '../config';
import { Database, sessionLimits } from '../db/connect';
import { startEmbeddedPostgres } from '../db/embedded';
import { reasonOf } from '../start-failure';

/**
 * The database as openDatabase finds it (DATABASE_URL, or the embedded server, shared with a running `npm start`),
 * but without applying migrations: `carrel migrations` reports what is pending and must change nothing. One
 * connection with a job's limits.
 */
export async function openUnmigratedDatabase(config: Config, log: (line: string) => void): Promise<Database> {
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, log, true);
  const url = config.databaseUrl ?? embedded!.url;
  const description = embedded ? `embedded PostgreSQL on port ${config.embeddedPgPort} (data in ${config.dataDir}/pgdata)` : url.replace(/:[^:@/]*@/, ':***@');
  const dataSource = createDataSource(url, { ...sessionLimits(config, 'job'), poolSize: 1 });
  try {
    await dataSource.initialize();
  } catch (e) {
    await embedded?.stop();
    throw new Error(`cannot connect to ${description} (${reasonOf(e)})`);
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
