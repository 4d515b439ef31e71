import type { DataSource } from 'typeorm';
import { createTokenIssuer } from '../../src/auth/tokens';
import { buildContext, RequestContext } from '../../src/context';
import type { InstitutionFixture } from '../support/fixtures';
import { givenOwnedItem, OwnerCode } from '../support/owned-items';

/**
 * Rows the lifecycle tests give a user straight in its tables (loans have no
 * API yet), and a request context for calling the purge job as a function.
 */

/** A loan of one item; open until `returned`. */
export async function givenLoan(db: DataSource, inst: InstitutionFixture, userId: string, opts: { returned?: boolean } = {}): Promise<string> {
  const [row] = await db.query(
    `INSERT INTO loan (institution_id, user_id, library_id, item_barcode, due_date, returned_at)
     VALUES ($1, $2, $3, 'ITEM-' || substr(md5(random()::text), 1, 8), now() + interval '14 days', CASE WHEN $4 THEN now() END) RETURNING id`,
    [inst.id, userId, inst.libraries.MAIN.id, opts.returned ?? false],
  );
  return row.id;
}

export const givenStatistic = (db: DataSource, inst: InstitutionFixture, userId: string, owner: OwnerCode = null) =>
  givenOwnedItem(db, inst, 'user_statistic', userId, owner, { category_type: 'DEPT', category: 'HISTORY', note: null });

export const givenNote = (db: DataSource, inst: InstitutionFixture, userId: string, text: string) =>
  givenOwnedItem(db, inst, 'user_note', userId, null, { text, created_by: 'test' });

export async function givenContacts(db: DataSource, inst: InstitutionFixture, userId: string, email: string): Promise<void> {
  await db.query(`INSERT INTO user_email (institution_id, user_id, address, email_type, is_preferred) VALUES ($1, $2, $3, 'PERSONAL', true)`, [inst.id, userId, email]);
  await db.query(`INSERT INTO user_address (institution_id, user_id, address_type, line1, city) VALUES ($1, $2, 'HOME', '1 Elm Street', 'Springfield')`, [inst.id, userId]);
  await db.query(`INSERT INTO user_phone (institution_id, user_id, phone_number, phone_type) VALUES ($1, $2, '+1 555 0100', 'MOBILE')`, [inst.id, userId]);
}

/** Sets a user's purge date `daysAgo` days before today (negative: in the future). */
export async function setPurgeDate(db: DataSource, userId: string, daysAgo: number): Promise<void> {
  await db.query(`UPDATE app_user SET purge_date = current_date - $2::int WHERE id = $1`, [userId, daysAgo]);
}

/** The context a GraphQL request with this token gets (the test app signs tokens with 'test-secret'). */
export function contextOf(db: DataSource, token: string): Promise<RequestContext> {
  return buildContext(db, createTokenIssuer('test-secret', 3600), { authorization: `Bearer ${token}` });
}

/** Every row of the tables a purge writes, to prove a dry run or a refusal wrote nothing. */
export async function lifecycleFingerprint(db: DataSource): Promise<string> {
  const tables = ['institution', 'app_user', 'user_identifier', 'user_email', 'user_address', 'user_phone', 'user_note', 'user_block',
    'user_statistic', 'role_assignment', 'proxy_link', 'fine_fee', 'loan', 'history_entry', 'event_outbox', 'login_attempt'];
  const [row] = await db.query(`SELECT ${tables.map((t) => `(SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM ${t} x) AS ${t}`).join(', ')}`);
  return JSON.stringify(row);
}
