import fs from 'node:fs';
import { coerceInputValue, GraphQLError, GraphQLInputType, GraphQLSchema } from 'graphql';
import { inputCleaner } from '../common/input-hygiene';
import { sqlStatementCount } from '../db/sql-logger';
import type { RequestContext } from '../context';
import type { ExternalUserInput, SyncMatchInput } from '../generated/graphql';
import { readRecords, SisFormat } from './formats/read-records';
import { analyzeUserTables, userTableSize } from './sis-sync.repository';
import { loadSyncReference, MAX_SYNC_RECORDS, syncExternalUsers, SyncRecordResult } from './sis-sync.service';

/**
 * `npm run sis:load`: a file of SIS records through the same rules as the
 * syncExternalUsers mutation, streamed a batch at a time (memory stays flat
 * in the file's size). Each record is first coerced against the GraphQL type
 * ExternalUserInput and cleaned by the same input-hygiene layer as an API
 * call, on its own, so a malformed record fails alone with its line.
 */

/** Batches written at once: the machine has two cores, one for this process and one for PostgreSQL's writes. */
const IN_FLIGHT = 2;

export interface LoadOptions {
  format: SisFormat;
  matchOn?: SyncMatchInput | null;
  externalOwner: string;
  dryRun: boolean;
  batchSize?: number;
  onProgress?(records: number): void;
}

/** A record the load refused: where it is in the file, and why. */
export interface LoadFailure {
  position: number;
  line: number | null;
  primaryIdentifier: string | null;
  code: string;
  message: string;
  field: string | null;
}

export interface LoadSummary {
  records: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  failures: LoadFailure[];
  ms: number;
  /** syncExternalUsers calls made (one transaction each). */
  batches: number;
  /** SQL statements the load sent, all batches together. */
  statements: number;
}

/** How many records a file holds, for the progress bar: one pass over the file, a chunk at a time. */
export async function countRecords(path: string, format: SisFormat): Promise<number> {
  const marker = format === 'xml' ? /<user[\s>]/g : /\n/g;
  let count = 0;
  let tail = '';
  let last = '';
  for await (const chunk of fs.createReadStream(path, { encoding: 'utf8' })) {
    const text = tail + (chunk as string);
    count += text.match(marker)?.length ?? 0;
    // Keep what could be the start of a marker split across chunks, never a whole one.
    tail = format === 'xml' ? text.slice(-5).replace(/^.*<user[\s>]/s, '') : '';
    last = text;
  }
  if (format !== 'xml' && last !== '' && !last.endsWith('\n')) count += 1;
  return format === 'csv' ? Math.max(count - 1, 0) : count;
}

const pathOfField = (field: string | null, position: number) => field?.replace(/^records\[\d+\]/, `record ${position}`) ?? null;

/** Coerces and cleans one record as the API would; returns the input or the refusal. */
function checkRecord(schema: GraphQLSchema, clean: (value: unknown, path: string) => unknown, raw: Record<string, unknown>): ExternalUserInput | GraphQLError {
  const type = schema.getType('ExternalUserInput') as GraphQLInputType;
  let problem: GraphQLError | null = null;
  const value = coerceInputValue(raw, type, (path, _invalid, error) => {
    problem ??= new GraphQLError(`${['record', ...path].join('.')}: ${error.message}`, { extensions: { code: 'BAD_USER_INPUT', field: path.join('.') } });
  });
  if (problem) return problem;
  try {
    return clean(value, 'records[0]') as ExternalUserInput;
  } catch (e) {
    if (e instanceof GraphQLError) return e;
    throw e;
  }
}

/**
 * Loads a stream of SIS records in batches of at most 1,000 through
 * syncExternalUsers, as the operator of `ctx` (an API key, for the CLI).
 */
export async function loadSisRecords(ctx: RequestContext, schema: GraphQLSchema, input: NodeJS.ReadableStream, options: LoadOptions): Promise<LoadSummary> {
  const started = Date.now();
  const reference = await loadSyncReference(ctx);
  const clean = inputCleaner(schema, 'ExternalUserInput');
  const batchSize = Math.min(options.batchSize ?? MAX_SYNC_RECORDS, MAX_SYNC_RECORDS);
  const summary: LoadSummary = { records: 0, created: 0, updated: 0, unchanged: 0, failed: 0, failures: [], ms: 0, batches: 0, statements: 0 };
  const statementsBefore = sqlStatementCount();
  const fail = (failure: LoadFailure) => {
    summary.failed += 1;
    summary.failures.push(failure);
  };
  // A first load into an empty institution grows the user tables many times over. PostgreSQL plans the foreign-key and
  // identifier checks of each session once, from the statistics of the moment: planned while the tables were small,
  // they scan whole tables for every row inserted later (a 30,000-user load spent 33 s of 36 s so). Fresh statistics
  // each time the tables have doubled make it plan again, about ten times for a million users.
  let analyzedAt = await userTableSize(ctx.db.manager);
  const refreshStatisticsWhenGrown = async (created: number) => {
    grown += created;
    if (grown < Math.max(analyzedAt, 1000)) return;
    analyzedAt += grown;
    grown = 0;
    await analyzeUserTables(ctx.db.manager);
  };
  let grown = 0;
  type Pending = { input: ExternalUserInput; position: number; line: number | null }[];
  const run = async (pending: Pending) => {
    const report = await syncExternalUsers(ctx, pending.map((b) => b.input), { matchOn: options.matchOn, externalOwner: options.externalOwner, dryRun: options.dryRun }, reference);
    summary.created += report.created;
    await refreshStatisticsWhenGrown(report.created);
    summary.updated += report.updated;
    summary.unchanged += report.unchanged;
    summary.batches += 1;
    for (const f of report.failures as SyncRecordResult[]) {
      const source = pending[f.position];
      fail({ position: source.position, line: source.line, primaryIdentifier: f.primaryIdentifier, code: f.code!, message: f.message!, field: pathOfField(f.field, source.position) });
    }
  };
  // Two batches in flight: one is planned and checked here while PostgreSQL writes the other. A batch naming a user an
  // earlier one in flight also names waits for it, so the file's order decides, as in a load one batch at a time.
  const inFlight = new Set<{ keys: Set<string>; done: Promise<void> }>();
  let batch: Pending = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const pending = batch;
    batch = [];
    const keys = new Set(pending.flatMap(({ input }) => [input.primaryIdentifier.toLowerCase(), ...(input.identifiers ?? []).map((i) => i.value)]));
    for (const other of [...inFlight]) if ([...other.keys].some((k) => keys.has(k))) await other.done;
    while (inFlight.size >= IN_FLIGHT) await Promise.race([...inFlight].map((f) => f.done));
    const entry = { keys, done: run(pending).finally(() => inFlight.delete(entry)) };
    // A failed batch is awaited (and its error thrown) by the next flush or at the end; until then it must not count as unhandled.
    entry.done.catch(() => {});
    inFlight.add(entry);
  };
  for await (const source of readRecords(input, options.format)) {
    summary.records += 1;
    if (source.error !== undefined || !source.record) {
      fail({ position: source.position, line: source.line, primaryIdentifier: null, code: 'BAD_USER_INPUT', message: source.error ?? 'unreadable', field: null });
    } else {
      const checked = checkRecord(schema, clean, source.record);
      if (checked instanceof GraphQLError) {
        const pid = typeof source.record.primaryIdentifier === 'string' ? source.record.primaryIdentifier : null;
        fail({ position: source.position, line: source.line, primaryIdentifier: pid, code: String(checked.extensions.code), message: checked.message.replace(/records\[0\]/g, `record ${source.position}`), field: pathOfField((checked.extensions.field as string | undefined) ?? null, source.position) });
      } else {
        batch.push({ input: checked, position: source.position, line: source.line });
        if (batch.length >= batchSize) await flush();
      }
    }
    options.onProgress?.(summary.records);
  }
  await flush();
  await Promise.all([...inFlight].map((f) => f.done));
  summary.failures.sort((a, b) => a.position - b.position);
  summary.ms = Date.now() - started;
  summary.statements = sqlStatementCount() - statementsBefore;
  return summary;
}
