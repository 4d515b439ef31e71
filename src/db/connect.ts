import { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { Config } from '../config';
import { startEmbeddedPostgres } from './embedded';

export interface Database {
  dataSource: DataSource;
  /** Where the database is, without its password, for log lines. */
  description: string;
  close(): Promise<void>;
}

/**
 * Opens DATABASE_URL, or starts the embedded server when it is unset, and
 * applies pending migrations: start-up and `npm run migrate` share this path.
 */
export async function openDatabase(config: Config, log: (line: string) => void = console.log): Promise<Database> {
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, log);
  const url = config.databaseUrl ?? embedded!.url;
  const dataSource = createDataSource(url, config.dbPoolSize);
  try {
    await dataSource.initialize();
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    for (const m of applied) log(`applied migration ${m.name}`);
  } catch (e) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    throw e;
  }
  return {
    dataSource,
    description: embedded ? `embedded PostgreSQL on port ${config.embeddedPgPort} (data in ${config.dataDir}/pgdata)` : url.replace(/:[^:@/]*@/, ':***@'),
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
    },
  };
}
