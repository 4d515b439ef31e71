import 'reflect-metadata';
import { DataSource, DataSourceOptions } from 'typeorm';
import { types } from 'pg';
import { entities } from './src/db/entities';
import { migrations } from './src/db/migrations';
import { sqlLogger } from './src/db/sql-logger';

// A DATE column is a calendar day, not an instant: keep it as 'YYYY-MM-DD'
// instead of letting pg turn it into a Date at local midnight.
types.setTypeParser(types.builtins.DATE, (value) => value);

/** The one DataSource definition: the app, the tests and the TypeORM CLI all build theirs here. */
export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    migrationsTransactionMode: 'each',
    logger: sqlLogger,
    logging: ['query'],
    extra: { max: poolSize },
  };
}

export function createDataSource(url: string, poolSize?: number): DataSource {
  return new DataSource(dataSourceOptions(url, poolSize));
}

// The TypeORM CLI (`npx typeorm -d dist/ormconfig.js migration:show`) loads this default export.
export default createDataSource(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/carrel');
