import path from 'node:path';
import { runCli } from '../cli/run-cli';
import { loadConfig } from '../config';
import { openDatabase, Database } from '../db/connect';
import { ADMIN_PASSWORD_FILE } from './admin-password';
import { generateUsers } from './bulk-users';
import { seedDemoIfEmpty } from './demo-data';
import { DEMO_INSTITUTION_CODE } from './demo-reference';
import { createProgressBar } from './progress';

/**
 * `npm run seed -- --users N [--institution CODE]`: makes sure the demo data
 * exists, then adds N generated patrons for load and pagination testing.
 */
const USAGE = `usage: npm run seed -- --users N [--institution CODE]
  --users N            number of patrons to generate (a positive integer)
  --institution CODE   institution to add them to (default ${DEMO_INSTITUTION_CODE})`;

interface Args {
  users: number;
  institution: string;
}

/** Returns the parsed arguments, or the reason they are wrong. */
export function parseArgs(argv: string[]): Args | string {
  let users: number | undefined;
  let institution = DEMO_INSTITUTION_CODE;
  for (let i = 0; i < argv.length; i++) {
    // Both `--users 10` and `--users=10`.
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    if (flag !== '--users' && flag !== '--institution') return `unknown argument "${arg}"`;
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (!value) return `${flag} needs a value`;
    if (flag === '--institution') {
      institution = value;
    } else if (/^[1-9][0-9]{0,8}$/.test(value)) {
      users = Number(value);
    } else {
      return `--users must be a positive integer, got "${value}"`;
    }
  }
  if (users === undefined) return '--users is required';
  return { users, institution };
}

async function seed(args: Args): Promise<number> {
  const started = Date.now();
  const config = loadConfig(process.env, 'tool');
  const log = (line: string) => console.log(line);
  let db: Database | undefined;
  // Ctrl-C stops after the current batch, so the database (embedded or not) is closed cleanly.
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort(new Error('interrupted')));
  try {
    db = await openDatabase(config, log, 'job');
    log(`database: ${db.description}`);
    const demo = await seedDemoIfEmpty(db.dataSource, { adminPassword: config.adminPassword, dataDir: config.dataDir, log });
    if (demo.passwordGenerated) log(`generated admin password written to ${path.join(config.dataDir, ADMIN_PASSWORD_FILE)}`);

    const bar = createProgressBar(args.users);
    const result = await generateUsers(db.dataSource, {
      institutionCode: args.institution, count: args.users, onProgress: (done) => bar.update(done), signal: abort.signal,
    }).finally(() => bar.finish());
    const rate = Math.round(result.inserted / Math.max(result.ms / 1000, 0.001));
    log(`inserted ${result.inserted} users into ${args.institution} in ${(result.ms / 1000).toFixed(1)} s (${rate} users/s)`);
    log(`total time ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } finally {
    await db?.close().catch(() => {});
  }
}

if (require.main === module) runCli('seed', USAGE, parseArgs, seed);
