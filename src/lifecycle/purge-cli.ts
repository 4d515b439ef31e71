import { performance } from 'node:perf_hooks';
import { runCli } from '../cli/run-cli';
import { cliContext, resolveCliApiKey } from '../cli/cli-context';
import { loadConfig } from '../config';
import { Database, openDatabase } from '../db/connect';
import { createProgressBar, ProgressBar } from '../seed/progress';
import { MAX_GRACE_DAYS, PurgeJobReport, runPurgeJob } from './purge-job';

/**
 * `npm run purge -- [--dry-run] [--grace-days N] [--api-key KEY]`: the purge
 * job (R10.4) from the command line, acting as an API key exactly as
 * `runPurgeJob` over GraphQL does (same policy, attribution `api-key:<name>`).
 * `npm run carrel -- purge` runs the same; `invocation` is how it was started.
 */
export const purgeUsage = (invocation: string) => `usage: ${invocation} [--dry-run] [--grace-days N] [--api-key KEY]
  --dry-run         report who would be purged and skipped; purge nothing
  --grace-days N    days after the purge date before a user is due, 0 to ${MAX_GRACE_DAYS} (default 0):
                    due means purge date + N is before today
  --api-key KEY     the API key to act as (default: CARREL_API_KEY, else the demo SIS key in the data folder);
                    it needs User Manager or User Administrator scoped to the institution
exit code: 0 when every due user was purged (or, in a dry run, would be), 1 when any was skipped or the job
failed, 2 on bad arguments`;

/** How many skipped users the summary lists; the GraphQL report lists up to 1,000. */
const LISTED = 20;

export interface PurgeArgs {
  dryRun: boolean;
  graceDays: number;
  apiKey?: string;
}

/** Returns the parsed arguments, or the reason they are wrong. Both `--grace-days 10` and `--grace-days=10`. */
export function parseArgs(argv: string[]): PurgeArgs | string {
  const args: PurgeArgs = { dryRun: false, graceDays: 0 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    if (flag === '--dry-run' && eq < 0) {
      args.dryRun = true;
      continue;
    }
    if (flag !== '--grace-days' && flag !== '--api-key') return `unknown argument "${arg}"`;
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (!value) return `${flag} needs a value`;
    if (flag === '--api-key') {
      args.apiKey = value;
    } else if (/^[0-9]{1,4}$/.test(value) && Number(value) <= MAX_GRACE_DAYS) {
      args.graceDays = Number(value);
    } else {
      return `--grace-days must be a whole number of days from 0 to ${MAX_GRACE_DAYS}, got "${value}"`;
    }
  }
  return args;
}

const users = (n: number) => `${n} ${n === 1 ? 'user' : 'users'}`;

/** The final summary: purged, skipped by reason, the first skipped users, the rate. */
export function summary(report: PurgeJobReport, seconds: number): string[] {
  const handled = report.purged + report.skipped;
  const lines = [
    `${report.dryRun ? 'dry run: would purge' : 'purged'} ${users(report.purged)}, skipped ${report.skipped} `
      + `(grace ${report.graceDays} days: purge dates before ${report.dueBefore} were due)`,
    ...Object.entries(report.skippedByReason).map(([reason, count]) => `  skipped ${reason}: ${count}`),
  ];
  if (report.skipped > 0) {
    lines.push(`first skipped users${report.skipped > LISTED ? ` (${LISTED} of ${report.skipped})` : ''}:`);
    for (const skip of report.skippedUsers.slice(0, LISTED)) {
      lines.push(`  ${skip.primaryIdentifier ?? '(no identifier)'} ${skip.userId}: ${skip.reasons.map((r) => `${r.code} (${r.message})`).join('; ')}`);
    }
  }
  lines.push(`${users(handled)} in ${seconds.toFixed(1)} s (${Math.round(handled / Math.max(seconds, 0.001))} users/s)`);
  return lines;
}

export async function purge(args: PurgeArgs): Promise<number> {
  const config = loadConfig(process.env, 'tool');
  const log = (line: string) => console.log(line);
  let db: Database | undefined;
  let bar: ProgressBar | undefined;
  // Ctrl-C stops after the current batch: what was purged stays purged, the rest is due for the next run.
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort(new Error('interrupted: the batches done are committed, run again to purge the rest')));
  try {
    const apiKey = resolveCliApiKey(args.apiKey, process.env, config.dataDir);
    db = await openDatabase(config, log, 'job');
    log(`database: ${db.description}`);
    const ctx = await cliContext(db.dataSource, apiKey);
    const started = performance.now();
    const report = await runPurgeJob(ctx, {
      dryRun: args.dryRun,
      graceDays: args.graceDays,
      signal: abort.signal,
      onProgress: (done, total) => (bar ??= createProgressBar(total)).update(done),
    }).finally(() => bar?.finish());
    for (const line of summary(report, (performance.now() - started) / 1000)) log(line);
    return report.skipped > 0 ? 1 : 0;
  } finally {
    await db?.close().catch(() => {});
  }
}

if (require.main === module) runCli('purge', purgeUsage('npm run purge --'), parseArgs, purge);
