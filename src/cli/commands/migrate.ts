import { loadConfig } from '../../config';
import { openDatabase } from '../../db/connect';
import { cliCommand } from '../cli-command';
import { parseOptions } from '../options';

const USAGE = `usage: npm run carrel -- migrate
Applies the pending migrations, as the server does when it starts (and \`npm run migrate\`).
exit code: 0 when the database is current, 1 when a migration failed, 2 on bad arguments`;

function parse(argv: string[]): Record<string, never> | string {
  const parsed = parseOptions(argv, {});
  return typeof parsed === 'string' ? parsed : {};
}

async function migrate(): Promise<number> {
  const db = await openDatabase(loadConfig(process.env, 'tool'), (line) => console.log(line), 'job');
  console.log(`migrations are up to date on ${db.description}`);
  await db.close();
  return 0;
}

export const migrateCommand = cliCommand({ name: 'migrate', summary: 'apply pending migrations', usage: USAGE, parse, run: migrate });
