import { DataSource } from 'typeorm';
import { hashPassword } from '../auth/password';
import { chooseAdminPassword, writeAdminPasswordFile } from './admin-password';
import { addDemoActivity } from './demo-activity';
import { addDemoReference, DEMO_INSTITUTION_CODE } from './demo-reference';
import { addDemoSisKey } from './demo-sis-key';
import { addDemoUsers } from './demo-users';
import { emptyRows, insertAll, Queryable, Table } from './insert-rows';
import { createRng } from './prng';
import { createRowBuilder } from './row-builder';

export { DEMO_OPERATORS } from './demo-operators';

/** Fixed, so every fresh database gets the same people (dates are relative to the day of seeding). */
const DEMO_SEED = 20_251_127;

export interface SeedDemoOptions {
  adminPassword?: string;
  dataDir: string;
  log: (line: string) => void;
}

export interface SeedDemoResult {
  seeded: boolean;
  adminPassword?: string;
  passwordGenerated: boolean;
}

/**
 * Fills an empty database with the demo institution, its configuration and
 * about two hundred users; does nothing once any institution exists, so it
 * is safe to call on every start.
 */
export async function seedDemoIfEmpty(dataSource: DataSource, opts: SeedDemoOptions): Promise<SeedDemoResult> {
  const notSeeded = { seeded: false, passwordGenerated: false };
  if (await hasInstitution(dataSource)) return notSeeded;

  const started = Date.now();
  const { password, generated } = chooseAdminPassword(opts.adminPassword);
  // Hashed once for all demo operators: argon2 is slow on purpose.
  const passwordHash = await hashPassword(password);
  const today = new Date();
  const rng = createRng(DEMO_SEED);
  const rows = emptyRows();
  const ref = addDemoReference(rows);
  const b = createRowBuilder(ref.institutionId, today, rows);
  const people = addDemoUsers(b, ref, rng, passwordHash, today);
  addDemoActivity(b, ref, people, rng, today);

  const counts = await dataSource.transaction(async (m) => {
    // The server and the seed CLI may both find the database empty; the lock makes the second one wait and then skip.
    await m.query(`SELECT pg_advisory_xact_lock(hashtext('carrel:seed-demo'))`);
    if (await hasInstitution(m)) return undefined;
    const inserted = await insertAll(m, rows);
    // Inside the transaction: if the password cannot be saved, no admin exists whose password nobody knows.
    await writeAdminPasswordFile(opts.dataDir, password);
    await addDemoSisKey(m, ref.institutionId, opts.dataDir);
    return inserted;
  });
  if (!counts) return notSeeded;

  const users = `${rows.app_user.length} users (${people.staffIds.length} staff, ${people.patrons.length} patrons, ${people.contactIds.length} contacts)`;
  opts.log(`seeded demo institution ${DEMO_INSTITUTION_CODE} in ${Date.now() - started} ms: ${users}, ${describeCounts(counts)}`);
  return { seeded: true, adminPassword: password, passwordGenerated: generated };
}

async function hasInstitution(q: Queryable): Promise<boolean> {
  const [row] = (await q.query(`SELECT EXISTS (SELECT 1 FROM institution) AS present`)) as { present: boolean }[];
  return row.present;
}

const LABELS: Partial<Record<Table, string>> = {
  library: 'libraries', circulation_desk: 'desks', code_value: 'code values', fine_fee_type: 'fine types',
  user_identifier: 'identifiers', user_email: 'emails', user_phone: 'phones', user_address: 'addresses',
  role_assignment: 'role assignments', role_profile: 'role profiles', role_profile_entry: 'profile entries',
  role_assignment_rule: 'assignment rules', fine_fee: 'fines', fine_fee_action: 'fine actions', user_block: 'blocks',
  user_note: 'notes', user_statistic: 'statistics', proxy_link: 'proxy links', loan: 'loans',
};

function describeCounts(counts: Partial<Record<Table, number>>): string {
  return Object.entries(LABELS)
    .filter(([table]) => counts[table as Table])
    .map(([table, label]) => `${counts[table as Table]} ${label}`)
    .join(', ');
}
