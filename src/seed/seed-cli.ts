import path from 'node:path';
import { runCli } from '../cli/run-cli';
import { loadConfig } from '../config';
import { openDatabase, Database } from '../db/connect';
import { ADMIN_PASSWORD_FILE } from './admin-password';
import { generateFines } from './bulk-fines';
import { generateUsers } from './bulk-users';
import { seedDemoIfEmpty } from './demo-data';
import { DEMO_INSTITUTION_CODE } from './demo-reference';
import { createProgressBar } from './progress';

/**
 * `npm run seed -- [--users N] [--fines M] [--institution CODE]`: makes sure the demo data exists, then adds N
 * generated patrons and M fines with their ledgers over the institution's patrons (after the new ones), for load,
 * pagination and analytics testing.
 */
const USAGE = `usage: npm run seed -- [--users N] [--fines M] [--institution CODE]   (at least one of --users, --fines)
  --users N            number of patrons to generate (a positive integer)
  --fines M            number of fines to generate over the institution's patrons, after the users (a positive integer)
  --institution CODE   institution to add them to (default ${DEMO_INSTITUTION_CODE})`;

interface Args {
  users?: number;
  fines?: number;
  institution: string;
}

const COUNT_FLAGS = ['--users', '--fines'] as const;

/** Returns the parsed arguments, or the reason they are wrong. */
export function parseArgs(argv: string[]): Args | string {
  const args: Args = { institution: DEMO_INSTITUTION_CODE };
  for (let i = 0; i < argv.length; i++) {
    // Both `--users 10` and `--users=10`.
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const countFlag = COUNT_FLAGS.find((f) => f === flag);
    if (!countFlag && flag !== '--institution') return `unknown argument "${arg}"`;
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (!value) return `${flag} needs a value`;
    if (!countFlag) {
      args.institution = value;
    } else if (/^[1-9][0-9]{0,8}$/.test(value)) {
      args[countFlag === '--users' ? 'users' : 'fines'] = Number(value);
    } else {
      return `${flag} must be a positive integer, got "${value}"`;
    }
  }
  if (args.users === undefined && args.fines === undefined) return '--users or --fines is required';
  return args;
}

type Log = (line: string) => void;

async function seed(args: Args): Promise<number> {
  const started = Date.now();
  const config = loadConfig(process.env, 'tool');
  const log: Log = (line) => console.log(line);
  let db: Database | undefined;
  // Ctrl-C stops after the current batch, so the database (embedded or not) is closed cleanly.
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort(new Error('interrupted')));
  try {
    db = await openDatabase(config, log, 'job');
    log(`database: ${db.description}`);
    const demo = await seedDemoIfEmpty(db.dataSource, { adminPassword: config.adminPassword, dataDir: config.dataDir, log });
    if (demo.passwordGenerated) log(`generated admin password written to ${path.join(config.dataDir, ADMIN_PASSWORD_FILE)}`);
    const dataSource = db.dataSource;
    const common = { institutionCode: args.institution, signal: abort.signal };

    if (args.users !== undefined) {
      const result = await withProgressBar(args.users, 'users', (onProgress) => generateUsers(dataSource, { ...common, count: args.users!, onProgress }));
      logRate(log, `${result.inserted} users`, result.inserted, result.ms, 'users', args.institution);
    }
    if (args.fines !== undefined) {
      const result = await withProgressBar(args.fines, 'fines', (onProgress) => generateFines(dataSource, { ...common, count: args.fines!, onProgress }));
      logRate(log, `${result.inserted} fines (${result.actions} ledger actions)`, result.inserted, result.ms, 'fines', args.institution);
    }
    log(`total time ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } finally {
    await db?.close().catch(() => {});
  }
}

async function withProgressBar<T>(total: number, unit: string, run: (onProgress: (done: number) => void) => Promise<T>): Promise<T> {
  const bar = createProgressBar(total, process.stderr, unit);
  return run((done) => bar.update(done)).finally(() => bar.finish());
}

function logRate(log: Log, what: string, count: number, ms: number, unit: string, institution: string): void {
  const rate = Math.round(count / Math.max(ms / 1000, 0.001));
  log(`inserted ${what} into ${institution} in ${(ms / 1000).toFixed(1)} s (${rate} ${unit}/s)`);
}

if (require.main === module) runCli('seed', USAGE, parseArgs, seed);
