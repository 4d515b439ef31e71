import fs from 'node:fs';
import { loadConfig } from '../config';
import { cliContext, resolveCliApiKey } from '../cli/cli-context';
import { runCli } from '../cli/run-cli';
import { openDatabase, Database } from '../db/connect';
import { buildSchema } from '../schema';
import { createProgressBar } from '../seed/progress';
import { formatOf } from './formats/read-records';
import { countRecords, loadSisRecords, LoadSummary } from './sis-load';

const USAGE = `usage: npm run sis:load -- FILE [options]
  FILE                  JSON Lines (.jsonl, .ndjson), CSV (.csv) or Alma SIS XML (.xml) with the users to synchronise
  --format F            jsonl, csv or xml, when the extension does not say
  --dry-run             check and report everything, keep nothing
  --match-on TYPE       match users on their identifier of this type (e.g. UNIV_ID) instead of the primary identifier
  --owner CODE          the external system's code (default SIS)
  --api-key KEY         the API key to act as (default: CARREL_API_KEY, else the demo SIS key in the data folder)
exit code: 0 when every record loaded, 1 when any record failed, 2 on bad arguments or when the load could not run`;

interface Args {
  file: string;
  format?: string;
  dryRun: boolean;
  matchOn?: string;
  owner: string;
  apiKey?: string;
}

/** Returns the parsed arguments, or the reason they are wrong. */
export function parseArgs(argv: string[]): Args | string {
  const args: Partial<Args> & { dryRun: boolean; owner: string } = { dryRun: false, owner: 'SIS' };
  const valued: Record<string, keyof Args> = { '--format': 'format', '--match-on': 'matchOn', '--owner': 'owner', '--api-key': 'apiKey' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    if (flag === '--dry-run') args.dryRun = true;
    else if (valued[flag]) {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (!value) return `${flag} needs a value`;
      (args as Record<string, unknown>)[valued[flag]] = value;
    } else if (arg.startsWith('--')) return `unknown argument "${arg}"`;
    else if (args.file) return `one file at a time (got "${args.file}" and "${arg}")`;
    else args.file = arg;
  }
  if (!args.file) return 'FILE is required';
  return args as Args;
}

function printSummary(summary: LoadSummary, dryRun: boolean): void {
  const rate = Math.round(summary.records / Math.max(summary.ms / 1000, 0.001));
  console.log(`${dryRun ? 'dry run: nothing was kept. ' : ''}${summary.records} records in ${(summary.ms / 1000).toFixed(1)} s (${rate} users/s): `
    + `${summary.created} created, ${summary.updated} updated, ${summary.unchanged} unchanged, ${summary.failed} failed`);
  const perBatch = summary.batches > 0 ? Math.round(summary.statements / summary.batches) : 0;
  console.log(`${summary.batches} batches, ${summary.statements} SQL statements (${perBatch} per batch), peak memory ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
  if (summary.failed === 0) return;
  const byCode = new Map<string, number>();
  for (const f of summary.failures) byCode.set(f.code, (byCode.get(f.code) ?? 0) + 1);
  console.log(`failures by reason: ${[...byCode].map(([code, n]) => `${code} ${n}`).join(', ')}`);
  const SHOWN = 100;
  for (const f of summary.failures.slice(0, SHOWN)) {
    const where = `record ${f.position}${f.line !== null ? ` (line ${f.line})` : ''}${f.primaryIdentifier ? ` ${f.primaryIdentifier}` : ''}`;
    console.log(`  ${where}: ${f.code}${f.field ? ` at ${f.field}` : ''}: ${f.message}`);
  }
  if (summary.failures.length > SHOWN) console.log(`  ... and ${summary.failures.length - SHOWN} more`);
}

async function load(args: Args): Promise<number> {
  let format;
  try {
    format = formatOf(args.file, args.format);
    fs.accessSync(args.file, fs.constants.R_OK);
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const config = loadConfig(process.env, 'tool');
  let db: Database | undefined;
  try {
    const apiKey = resolveCliApiKey(args.apiKey, process.env, config.dataDir);
    db = await openDatabase(config, (line) => console.error(line), 'job');
    const ctx = await cliContext(db.dataSource, apiKey);
    const total = await countRecords(args.file, format);
    const bar = createProgressBar(total);
    const summary = await loadSisRecords(ctx, buildSchema(), fs.createReadStream(args.file), {
      format,
      matchOn: args.matchOn ? { key: 'IDENTIFIER_TYPE', identifierType: args.matchOn } : null,
      externalOwner: args.owner,
      dryRun: args.dryRun,
      onProgress: (done) => bar.update(done),
    }).finally(() => bar.finish());
    printSummary(summary, args.dryRun);
    return summary.failed > 0 ? 1 : 0;
  } finally {
    await db?.close().catch(() => {});
  }
}

// A load that could not run (the database, the key, the options) exits 2, apart from records that failed (1).
if (require.main === module) runCli('sis:load', USAGE, parseArgs, load, 2);
