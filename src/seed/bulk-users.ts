import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { insertAll, Queryable } from './insert-rows';
import { emailDomain, personColumns, pickUserGroup, randomPerson } from './person';
import { createRng, Rng } from './prng';
import { createRowBuilder, INSTITUTION_SCOPE, RowBuilder } from './row-builder';
import { slug } from './names';
import { daysFrom, isoDay } from './values';

export interface GenerateUsersOptions {
  institutionCode: string;
  count: number;
  /**
   * Users per transaction. Each user takes two advisory locks (the
   * identifier-clash trigger), which live in PostgreSQL's shared lock table
   * (64 x max_connections entries by default), hence the cap.
   */
  batchSize?: number;
  /** PRNG seed for names and attributes; random when omitted. Identifiers are unique regardless. */
  seed?: number;
  onProgress?: (done: number, total: number) => void;
  /** Stops between batches; committed batches stay. */
  signal?: AbortSignal;
}

const DEFAULT_BATCH_SIZE = 2000;
const MAX_BATCH_SIZE = 2500;

/** What the generated patrons draw their codes from, read once from the institution's configuration. */
interface InstitutionCodes {
  id: string;
  userGroups: string[];
  campuses: string[];
  blockTypes: string[];
  fineTypes: { code: string; allowsLibraryOwner: boolean; vatRate: number }[];
  libraryIds: string[];
}

/**
 * Adds `count` PUBLIC patrons to an existing institution, for load and
 * pagination tests. Every batch is one transaction of a handful of unnest
 * inserts (ids are generated here, so no round trip per user).
 */
export async function generateUsers(dataSource: DataSource, opts: GenerateUsersOptions): Promise<{ inserted: number; ms: number }> {
  const started = performance.now();
  const batchSize = Math.min(Math.max(1, opts.batchSize ?? DEFAULT_BATCH_SIZE), MAX_BATCH_SIZE);
  const institution = await loadInstitutionCodes(dataSource, opts.institutionCode);
  const tag = await pickRunTag(dataSource, institution.id);
  const rng = createRng(opts.seed ?? randomInt(2 ** 31));
  const today = new Date();

  let done = 0;
  let batches = 0;
  while (done < opts.count) {
    opts.signal?.throwIfAborted();
    const size = Math.min(batchSize, opts.count - done);
    const b = createRowBuilder(institution.id, today);
    for (let i = 1; i <= size; i++) addPatron(b, institution, rng, today, tag, done + i);
    await dataSource.transaction((m) => insertAll(m, b.rows));
    done += size;
    batches += 1;
    // Refresh the planner's statistics as the tables grow (after batches 1, 2, 4, 8 ...): with the counts
    // of a near-empty table, the identifier-clash trigger's lookups were planned as scans, and each batch
    // took longer than the one before (2.7 s, 4.8 s, 7.0 s ... for 2,000 users on a fresh database).
    if ((batches & (batches - 1)) === 0) await dataSource.query('ANALYZE app_user, user_identifier, user_email, role_assignment');
    opts.onProgress?.(done, opts.count);
  }
  return { inserted: done, ms: Math.round(performance.now() - started) };
}

function addPatron(b: RowBuilder, inst: InstitutionCodes, rng: Rng, today: Date, tag: string, seq: number): void {
  const userGroup = inst.userGroups.length > 0 ? pickUserGroup(rng, inst.userGroups) : null;
  const person = randomPerson(rng, today, userGroup);
  const accountType = rng.weighted([['INTERNAL', 80], ['EXTERNAL', 17], ['INTERNAL_WITH_EXTERNAL_AUTH', 3]] as const);
  const external = accountType === 'EXTERNAL';
  const expiryOffset = rng.chance(0.05) ? -rng.int(1, 400) : rng.int(30, 4 * 365);
  // The run tag makes identifiers unique across runs, the sequence within one.
  const primary = `${slug(person.firstName)[0]}${slug(person.lastName)}.${tag}${seq}`;

  const id = b.user({
    record_type: 'PUBLIC', account_type: accountType, external_owner: external ? 'SIS' : null, primary_identifier: primary,
    ...personColumns(person), user_group: userGroup, campus: inst.campuses.length > 0 ? rng.pick(inst.campuses) : null,
    preferred_language: 'en', expiry_date: isoDay(today, expiryOffset),
  });
  b.identifier(id, 'BARCODE', `B${tag.toUpperCase()}${String(seq).padStart(7, '0')}`, external);
  const { domain, emailType } = emailDomain(userGroup);
  b.email(id, `${primary}@${domain}`, emailType, true, external);
  b.role(id, 'PATRON', INSTITUTION_SCOPE);

  if (inst.fineTypes.length > 0 && rng.chance(0.03)) {
    const type = rng.pick(inst.fineTypes);
    const cents = rng.int(1, 200) * 25;
    b.fine(id, {
      type: type.code, cents, vatCents: Math.round((cents * type.vatRate) / 100),
      owner: type.allowsLibraryOwner && inst.libraryIds.length > 0 && rng.chance(0.5) ? rng.pick(inst.libraryIds) : null,
    });
  }
  if (inst.blockTypes.length > 0 && rng.chance(0.02)) {
    b.block(id, rng.pick(inst.blockTypes), null, 'Generated for load testing', rng.chance(0.3) ? daysFrom(today, -rng.int(1, 60)) : null);
  }
}

async function loadInstitutionCodes(q: Queryable, code: string): Promise<InstitutionCodes> {
  const [institution] = (await q.query(`SELECT id FROM institution WHERE code = $1`, [code])) as { id: string }[];
  if (!institution) throw new Error(`institution ${code} not found`);
  const id = institution.id;
  const codes = (await q.query(
    `SELECT kind, code FROM code_value WHERE institution_id = $1 AND kind IN ('USER_GROUP', 'CAMPUS', 'BLOCK_TYPE') ORDER BY code`,
    [id],
  )) as { kind: string; code: string }[];
  const ofKind = (kind: string) => codes.filter((c) => c.kind === kind).map((c) => c.code);
  const fineTypes = (await q.query(
    `SELECT code, allows_library_owner, vat_rate FROM fine_fee_type WHERE institution_id = $1 AND NOT is_credit ORDER BY code`,
    [id],
  )) as { code: string; allows_library_owner: boolean; vat_rate: string }[];
  const libraries = (await q.query(`SELECT id FROM library WHERE institution_id = $1 ORDER BY code`, [id])) as { id: string }[];
  return {
    id,
    userGroups: ofKind('USER_GROUP'),
    campuses: ofKind('CAMPUS'),
    blockTypes: ofKind('BLOCK_TYPE'),
    fineTypes: fineTypes.map((t) => ({ code: t.code, allowsLibraryOwner: t.allows_library_owner, vatRate: Number(t.vat_rate) })),
    libraryIds: libraries.map((l) => l.id),
  };
}

/**
 * Three characters, a letter first, not used by an earlier run: barcodes are
 * `B<TAG><sequence>`, so a free barcode prefix means a free tag.
 */
async function pickRunTag(q: Queryable, institutionId: string): Promise<string> {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  for (;;) {
    const tag = alphabet[randomInt(26)] + alphabet[randomInt(36)] + alphabet[randomInt(36)];
    const [row] = (await q.query(
      `SELECT EXISTS (SELECT 1 FROM user_identifier WHERE institution_id = $1 AND value LIKE $2) AS used`,
      [institutionId, `B${tag.toUpperCase()}%`],
    )) as { used: boolean }[];
    if (!row.used) return tag;
  }
}
