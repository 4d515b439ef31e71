import fs from 'node:fs';
import path from 'node:path';
import { cliContext, resolveCliApiKey } from '../cli/cli-context';
import { runCli } from '../cli/run-cli';
import { loadConfig } from '../config';
import { Database, openDatabase } from '../db/connect';
import { findAllLibraries } from '../institutions/institution.repository';
import type { BursarFileFormat } from './bursar-batch';
import { parseBatchId } from './bursar-export.input';
import { bursarFile, exportFinesToBursar, MAX_FINES_PER_EXPORT } from './bursar-export.service';

/**
 * `npm run bursar:export -- --out FILE [--format jsonl|csv] [--batch-id X] [--library CODE] [--api-key KEY]`:
 * exportFinesToBursar from the command line, acting as an API key exactly as
 * over GraphQL (same policy and scopes, attribution `api-key:<name>`), then
 * the batch's lines written to FILE. Running it again with the same batch id
 * writes the same batch again and transfers nothing more.
 */
const USAGE = `usage: npm run bursar:export -- --out FILE [--format jsonl|csv] [--batch-id ID] [--library CODE] [--api-key KEY]
  --out FILE        where to write the batch (replaced whole once it is written)
  --format F        jsonl (JSON Lines, the default) or csv
  --batch-id ID     your id for the batch: running again with the same id writes the same batch and exports nothing more
                    (default: a new id, printed)
  --library CODE    only fines owned by this library (it must be within the key's scopes)
  --api-key KEY     the API key to act as (default: CARREL_API_KEY, else the demo SIS key in the data folder); it needs
                    Fulfillment Administrator, User Administrator or General System Administrator
at most ${MAX_FINES_PER_EXPORT} fines go in one batch; exit code: 0 when the batch was written, 1 when the export failed
(nothing was exported; FILE's folder is checked first) or, rarely, the file could not be written after it (the message
names the batch id to write it again with), 2 on bad arguments`;

export interface BursarArgs {
  out: string;
  format: BursarFileFormat;
  batchId?: string;
  library?: string;
  apiKey?: string;
}

const FLAGS = ['--out', '--format', '--batch-id', '--library', '--api-key'] as const;

/** Returns the parsed arguments, or the reason they are wrong. Both `--out x` and `--out=x`. */
export function parseArgs(argv: string[]): BursarArgs | string {
  const given: Partial<Record<(typeof FLAGS)[number], string>> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = (eq >= 0 ? arg.slice(0, eq) : arg) as (typeof FLAGS)[number];
    if (!FLAGS.includes(flag)) return `unknown argument "${arg}"`;
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (!value) return `${flag} needs a value`;
    given[flag] = value;
  }
  if (!given['--out']) return '--out FILE is required';
  const format = given['--format'] ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'csv') return `--format must be jsonl or csv, got "${format}"`;
  if (given['--batch-id']) {
    try {
      parseBatchId('--batch-id', given['--batch-id']);
    } catch (e) {
      return `--batch-id: ${(e as Error).message}`;
    }
  }
  return { out: given['--out'], format, batchId: given['--batch-id'], library: given['--library'], apiKey: given['--api-key'] };
}

/** Writes beside the target, then renames: a reader never sees half a file, and a failed run leaves the old one. */
function writeWhole(file: string, text: string): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(temporary, text);
  fs.renameSync(temporary, file);
}

/**
 * Refuses a file the batch could not be written to before anything is exported: fines transferred by a run that then
 * fails to write are in a batch whose id (when it was made for the run) the operator never saw.
 */
function assertWritable(file: string): void {
  try {
    fs.accessSync(path.dirname(path.resolve(file)), fs.constants.W_OK);
  } catch (e) {
    throw new Error(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; nothing was exported`);
  }
  if (fs.existsSync(file) && !fs.statSync(file).isFile()) throw new Error(`cannot write ${file}: it is not a file; nothing was exported`);
}

async function run(args: BursarArgs): Promise<number> {
  const config = loadConfig(process.env, 'tool');
  const log = (line: string) => console.log(line);
  let db: Database | undefined;
  try {
    assertWritable(args.out);
    const apiKey = resolveCliApiKey(args.apiKey, process.env, config.dataDir);
    db = await openDatabase(config, log, 'job');
    const ctx = await cliContext(db.dataSource, apiKey);
    let ownerLibraryId: string | undefined;
    if (args.library) {
      const library = (await findAllLibraries(db.dataSource.manager, ctx.policy.authenticated().institutionId)).find((l) => l.code === args.library);
      if (!library) throw new Error(`no library ${args.library} in the key's institution`);
      ownerLibraryId = library.id;
    }
    const batch = await exportFinesToBursar(ctx, { batchId: args.batchId, filter: ownerLibraryId ? { ownerLibraryId } : null });
    try {
      writeWhole(args.out, await bursarFile(ctx, batch, args.format));
    } catch (e) {
      throw new Error(`batch ${batch.id} was exported but not written (${(e as Error).message}): run again with --batch-id ${batch.id} to write it`);
    }
    log(`batch ${batch.id}: ${batch.fineCount} ${batch.fineCount === 1 ? 'fine' : 'fines'}, total ${batch.total} ${batch.currency}, `
      + `exported ${batch.createdAt.toISOString()} by ${batch.createdBy}; written to ${args.out} (${args.format})`);
    return 0;
  } finally {
    await db?.close().catch(() => {});
  }
}

if (require.main === module) runCli('bursar:export', USAGE, parseArgs, run);
