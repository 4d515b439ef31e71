import { MigrationExecutor } from 'typeorm';
import { loadConfig } from '../../config';
import { cliCommand } from '../cli-command';
import { parseOptions } from '../options';
import { Database, openDatabase } from '../../db/connect';

const USAGE = `usage: npm run carrel -- migrations
Lists the migrations applied to the database and those pending, without applying any.
exit code: 0 when the database is current, 1 when a migration is pending (or the database has one this version does
not know: it was migrated by a newer Carrel) or the check failed, 2 on bad arguments`;

function parse(argv: string[]): Record<string, never> | string {
  const parsed = parseOptions(argv, {});
  return typeof parsed === 'string' ? parsed : {};
}

const count = (n: number) => `${n} ${n === 1 ? 'migration' : 'migrations'}`;

async function checkMigrations(): Promise<number> {
  const config = loadConfig(process.env, 'tool');
  const log = (line: string) => console.log(line);
  let db: Database | undefined;
  try {
    db = await openDatabase(config, log, 'job', { migrate: false });
    log(`database: ${db.description}`);
    const executor = new MigrationExecutor(db.dataSource);
    // Both read only: no migrations table yet means none applied (TypeORM creates it when it first applies one).
    const applied = await executor.getExecutedMigrations();
    const pending = await executor.getPendingMigrations();
    const known = new Set(db.dataSource.migrations.map((m) => m.name ?? m.constructor.name));
    const unknown = applied.filter((m) => !known.has(m.name));
    for (const m of [...applied].reverse()) log(`applied  ${m.name}${known.has(m.name) ? '' : '  (unknown to this version)'}`);
    for (const m of pending) log(`pending  ${m.name}`);
    if (pending.length === 0 && unknown.length === 0) {
      log(`current: ${count(applied.length)} applied, none pending`);
      return 0;
    }
    if (pending.length > 0) log(`${count(pending.length)} pending: \`npm run carrel -- migrate\` (or starting the server) applies them`);
    if (unknown.length > 0) log(`${count(unknown.length)} applied by a newer version of Carrel: run that version`);
    return 1;
  } finally {
    await db?.close().catch(() => {});
  }
}

export const migrationsCommand = cliCommand({
  name: 'migrations',
  summary: 'list applied and pending migrations without applying any; exit 1 when any is pending',
  usage: USAGE,
  parse,
  run: checkMigrations,
});
