import type { DataSource } from 'typeorm';
import { findLedgerMismatches } from '../../src/fines/ledger.repository';
import { FINE_TYPES } from '../../src/seed/demo-reference';
import type { InstitutionFixture } from '../support/fixtures';

/**
 * The fine configuration the demo seed gives an institution (types with their
 * library-owner flag and VAT rate, waive reasons), and fines written straight
 * into the tables as addFine leaves them: the row plus its CREATE action for
 * the signed original amount, so the ledger holds from the start (R7.7).
 */

export type Owner = 'MAIN' | 'LAW' | null;

export async function configureFines(db: DataSource, inst: InstitutionFixture): Promise<void> {
  await db.query(
    `INSERT INTO fine_fee_type (institution_id, code, name, allows_library_owner, vat_rate, is_credit)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::boolean[], $5::numeric[], $6::boolean[])`,
    [inst.id, FINE_TYPES.map((t) => t.code), FINE_TYPES.map((t) => t.name), FINE_TYPES.map((t) => t.allowsLibraryOwner),
      FINE_TYPES.map((t) => t.vatRate), FINE_TYPES.map((t) => t.isCredit)],
  );
  await db.query(
    `INSERT INTO code_value (institution_id, kind, code, description) VALUES ($1, 'WAIVE_REASON', 'GOODWILL', 'Goodwill gesture'),
       ($1, 'WAIVE_REASON', 'LIBRARY_ERROR', 'Library error')`,
    [inst.id],
  );
}

export interface GivenFine {
  owner?: Owner;
  type?: string;
  /** A CLOSED fine was paid in full (remaining 0.00, a PAY action); a disputed or transferred one carries that action. */
  status?: 'ACTIVE' | 'IN_DISPUTE' | 'CLOSED' | 'TRANSFERRED';
}

/** `count` fines of `amount` each (negative: credits, with the comment R7.3 requires) for one user, owned by MAIN unless said otherwise, in two statements. */
export async function givenFines(db: DataSource, inst: InstitutionFixture, userId: string, count: number, amount: string, spec: GivenFine = {}): Promise<string[]> {
  const status = spec.status ?? 'ACTIVE';
  const owner = spec.owner === undefined ? 'MAIN' : spec.owner;
  const credit = amount.startsWith('-');
  const rows: { id: string }[] = await db.query(
    `INSERT INTO fine_fee (institution_id, user_id, fine_type, owner_library_id, original_amount, remaining_amount, status, comment, created_by,
                           paid_amount, disputed)
     SELECT $1, $2, $3, $4, $5::numeric, CASE WHEN $6 = 'CLOSED' THEN 0 ELSE $5::numeric END, $6, $8, 'test',
            CASE WHEN $6 = 'CLOSED' THEN $5::numeric ELSE 0 END, $6 = 'IN_DISPUTE' FROM generate_series(1, $7::int)
     RETURNING id`,
    [inst.id, userId, spec.type ?? (credit ? 'CREDIT' : 'OVERDUEFINE'), owner && inst.libraries[owner].id, amount, status, count, credit ? 'refund' : null],
  );
  const ids = rows.map((r) => r.id);
  await db.query(
    `INSERT INTO fine_fee_action (institution_id, fine_id, action_type, amount, created_by)
     SELECT $1::uuid, id, 'CREATE', $3::numeric, 'test' FROM unnest($2::uuid[]) AS id
     UNION ALL
     SELECT $1::uuid, id, CASE $4::text WHEN 'CLOSED' THEN 'PAY' WHEN 'IN_DISPUTE' THEN 'DISPUTE' ELSE 'TRANSFER' END,
            CASE WHEN $4 = 'CLOSED' THEN -$3::numeric ELSE 0 END, 'test'
       FROM unnest($2::uuid[]) AS id WHERE $4 <> 'ACTIVE'`,
    [inst.id, ids, amount, status],
  );
  return ids;
}

export async function givenFine(db: DataSource, inst: InstitutionFixture, userId: string, amount: string, spec: GivenFine = {}): Promise<string> {
  return (await givenFines(db, inst, userId, 1, amount, spec))[0];
}

/** A fine's row as the database has it now. */
export async function fineRow(db: DataSource, id: string): Promise<{ remaining: string; status: string }> {
  const [row] = await db.query(`SELECT remaining_amount::text AS remaining, status FROM fine_fee WHERE id = $1`, [id]);
  return row;
}

/** Everything a fine action may write in the institution, to prove a refused one changed nothing. */
export async function fineState(db: DataSource, inst: InstitutionFixture) {
  const q = (sql: string) => db.query(sql, [inst.id]);
  return {
    fines: await q(`SELECT id, user_id, owner_library_id, original_amount::text, remaining_amount::text, status, status_date FROM fine_fee WHERE institution_id = $1 ORDER BY id`),
    actions: await q(`SELECT id, fine_id, action_type, amount::text FROM fine_fee_action WHERE institution_id = $1 ORDER BY id`),
    history: await q(`SELECT count(*)::int AS n FROM history_entry WHERE institution_id = $1`),
    events: await q(`SELECT count(*)::int AS n FROM event_outbox WHERE institution_id = $1`),
  };
}

/** R7.7: the fines whose remaining amount is not the sum of their actions (expect none). */
export const ledgerMismatches = (db: DataSource, inst: InstitutionFixture) => findLedgerMismatches(db.manager, inst.id);

/** The outbox events about one fine, oldest first. */
export function fineEvents(db: DataSource, fineId: string) {
  return db.query(
    `SELECT event_type AS "eventType", aggregate_type AS "aggregateType", aggregate_id AS "aggregateId", owner_library_id AS "ownerLibraryId", actor, payload
       FROM event_outbox WHERE aggregate_id = $1 ORDER BY id`, [fineId]);
}

/** A user's history entries about fines, oldest first. */
export function fineHistory(db: DataSource, userId: string) {
  return db.query(
    `SELECT field, old_value AS "oldValue", new_value AS "newValue", owner_library_id AS "ownerLibraryId", changed_by AS "changedBy"
       FROM history_entry WHERE user_id = $1 AND field = 'fines' ORDER BY id`, [userId]);
}

export const FINE_FIELDS = `id type status originalAmount remainingAmount vatAmount comment itemBarcode statusDate owner { institution library { code } }`;
