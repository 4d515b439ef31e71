/**
 * The purge job over many users (issue 10's benchmark): seeds N generated
 * patrons (src/seed/bulk-users.ts: an identifier, an email, the Patron role,
 * some fines and blocks) in an institution of their own, gives each a purge
 * date 30 days past, a history entry that is personal and one that is not,
 * and a USER_CREATED event naming it, then times `runPurgeJob` as
 * `npm run purge` runs it (an API key holding User Manager at the
 * institution). Prints users/s and the SQL statements per batch.
 *
 * `benchPurge(dataSource, { users })` is what `npm run bench:sis` calls;
 * alone: `node -r ./bench/swc-register.js bench/purge.ts [N]` (default
 * 100,000) on a fresh database (bench/fresh-database.ts).
 */
import 'reflect-metadata';
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import { generateSecret } from '../src/apikeys/api-key.secret';
import { cliContext } from '../src/cli/cli-context';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/connect';
import { sqlStatementCount } from '../src/db/sql-logger';
import { PURGE_BATCH_SIZE, runPurgeJob } from '../src/lifecycle/purge-job';
import { generateUsers } from '../src/seed/bulk-users';
import { FINE_TYPES } from '../src/seed/demo-reference';
import { freshDatabase } from './fresh-database';

export interface PurgeBenchResult {
  due: number;
  purged: number;
  skipped: number;
  seconds: number;
  usersPerSecond: number;
  batches: number;
  statementsPerBatch: number;
}

/** An institution of the run's own, configured as the demo's (codes, fine types), with a purge API key; returns its code, id and key. */
async function seedInstitution(db: DataSource): Promise<{ code: string; id: string; apiKey: string }> {
  const code = `PURGE_${crypto.randomBytes(3).toString('hex').toUpperCase()}`;
  const [inst] = await db.query(`INSERT INTO institution (code, name) VALUES ($1, 'Purge bench university') RETURNING id`, [code]);
  await db.query(`INSERT INTO library (institution_id, code, name) VALUES ($1, 'MAIN', 'Main library'), ($1, 'LAW', 'Law library')`, [inst.id]);
  await db.query(
    `INSERT INTO code_value (institution_id, kind, code, description)
     SELECT $1, k, c, c FROM unnest($2::text[], $3::text[]) AS t(k, c)`,
    [inst.id, ['USER_GROUP', 'USER_GROUP', 'CAMPUS', 'BLOCK_TYPE'], ['UNDERGRAD', 'GRADUATE', 'NORTH', 'GENERAL']],
  );
  await db.query(
    `INSERT INTO fine_fee_type (institution_id, code, name, allows_library_owner, vat_rate, is_credit)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::boolean[], $5::numeric[], $6::boolean[])`,
    [inst.id, FINE_TYPES.map((t) => t.code), FINE_TYPES.map((t) => t.name), FINE_TYPES.map((t) => t.allowsLibraryOwner),
      FINE_TYPES.map((t) => t.vatRate), FINE_TYPES.map((t) => t.isCredit)],
  );
  const { prefix, secret, hash } = generateSecret();
  const [key] = await db.query(
    `INSERT INTO api_key (institution_id, name, key_prefix, secret_hash, created_by) VALUES ($1, 'purge bench', $2, $3, 'bench') RETURNING id`,
    [inst.id, prefix, hash],
  );
  await db.query(
    `INSERT INTO role_assignment (institution_id, api_key_id, role_type, scope_type, is_active, created_by) VALUES ($1, $2, 'USER_MANAGER', 'INSTITUTION', true, 'bench')`,
    [inst.id, key.id],
  );
  return { code, id: inst.id, apiKey: secret };
}

/** What a purge has to reach besides the rows: each user's history (one personal entry, one not) and an event naming it. */
async function seedHistory(db: DataSource, institutionId: string): Promise<void> {
  await db.query(`UPDATE app_user SET purge_date = current_date - 30 WHERE institution_id = $1`, [institutionId]);
  await db.query(
    `INSERT INTO history_entry (institution_id, user_id, field, old_value, new_value, changed_by)
     SELECT institution_id, id, f.field, f.old_value, f.new_value, 'bench' FROM app_user,
            (VALUES ('record', NULL, 'created'), ('lastName', 'Maiden', 'Married')) AS f(field, old_value, new_value)
      WHERE institution_id = $1`, [institutionId]);
  await db.query(
    `INSERT INTO event_outbox (institution_id, event_type, aggregate_type, aggregate_id, payload, actor)
     SELECT institution_id, 'USER_CREATED', 'USER', id, jsonb_build_object('primaryIdentifier', primary_identifier, 'recordType', record_type), 'bench'
       FROM app_user WHERE institution_id = $1`, [institutionId]);
  await db.query('ANALYZE app_user, history_entry, event_outbox, user_identifier, user_email, role_assignment, fine_fee, loan, proxy_link');
}

/** Seeds `users` due patrons in a new institution of `db` and times the purge job over them. */
export async function benchPurge(db: DataSource, opts: { users?: number; log?: (line: string) => void } = {}): Promise<PurgeBenchResult> {
  const users = opts.users ?? 100_000;
  const log = opts.log ?? ((line: string) => console.log(`[bench:purge] ${line}`));
  const inst = await seedInstitution(db);
  const seeded = performance.now();
  await generateUsers(db, { institutionCode: inst.code, count: users, seed: 10 });
  await seedHistory(db, inst.id);
  log(`seeded ${users} patrons with purge dates 30 days past in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);

  const ctx = await cliContext(db, inst.apiKey);
  // Statements between two progress calls are one batch's (the first also holds the job's due-day and count queries).
  const perBatch: number[] = [];
  let mark = sqlStatementCount();
  const started = performance.now();
  const report = await runPurgeJob(ctx, {
    dryRun: false,
    onProgress: () => {
      perBatch.push(sqlStatementCount() - mark);
      mark = sqlStatementCount();
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const batches = perBatch.length;
  const statementsPerBatch = Math.max(...perBatch.slice(1, -1), 0) || perBatch[0];
  const result: PurgeBenchResult = {
    due: report.purged + report.skipped, purged: report.purged, skipped: report.skipped, seconds,
    usersPerSecond: Math.round((report.purged + report.skipped) / seconds), batches, statementsPerBatch,
  };
  log(`purge job: ${result.purged} purged, ${result.skipped} skipped (${JSON.stringify(report.skippedByReason)}) of ${result.due} due `
    + `in ${seconds.toFixed(1)} s: ${result.usersPerSecond} users/s`);
  log(`${batches} batches of up to ${PURGE_BATCH_SIZE} users, ${statementsPerBatch} SQL statements per batch (BEGIN and COMMIT included), whatever the batch size`);
  return result;
}

async function main(): Promise<void> {
  const users = Number(process.argv[2] ?? 100_000);
  const log = (line: string) => console.log(`[bench:purge] ${line}`);
  const fresh = await freshDatabase(log);
  log(fresh.where);
  const database = await openDatabase({ ...loadConfig(process.env, 'tool'), databaseUrl: fresh.url }, () => {}, 'job');
  try {
    await benchPurge(database.dataSource, { users, log });
  } finally {
    await database.close();
    await fresh.dispose();
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
