import type { EntityManager } from 'typeorm';
import type { AccountType } from '../db/entities';
import type { SisAddress, SisEmail, SisFields, SisIdentifier, SisNote, SisPhone, SisStatistic } from './sis-record';

/**
 * The SQL of SIS synchronisation, set-based: each function is one statement
 * for a whole batch of users, so a batch of 1,000 records costs the same
 * dozen statements as a batch of 10. Rows travel as one jsonb parameter
 * (jsonb_to_recordset), which also carries the text[] columns that unnest()
 * would flatten.
 */

/** A matched user as the planner needs it: the SIS's fields, and what decides whether the SIS may write it. */
export interface StoredUser extends SisFields {
  id: string;
  /** The value the record was matched on: the primary identifier lower-cased, or the additional identifier's value. */
  matchKey: string;
  primaryIdentifier: string;
  accountType: AccountType;
  externalOwner: string | null;
  isRestricted: boolean;
  keptFields: string[];
  sisValues: Record<string, unknown>;
}

const STORED_COLUMNS = `u.id, u.primary_identifier AS "primaryIdentifier", u.account_type AS "accountType", u.external_owner AS "externalOwner",
  u.is_restricted AS "isRestricted", u.kept_fields AS "keptFields", u.sis_values AS "sisValues",
  u.record_type AS "recordType", u.first_name AS "firstName", u.middle_name AS "middleName", u.last_name AS "lastName",
  u.preferred_first_name AS "preferredFirstName", u.preferred_middle_name AS "preferredMiddleName", u.preferred_last_name AS "preferredLastName",
  u.title, u.pin_number AS "pinNumber", u.job_category AS "jobCategory", u.job_description AS "jobDescription", u.gender,
  u.user_group AS "userGroup", u.campus, u.website_url AS "websiteUrl", u.preferred_language AS "preferredLanguage", u.status,
  u.birth_date AS "birthDate", u.expiry_date AS "expiryDate", u.purge_date AS "purgeDate",
  u.resource_sharing_libraries AS "resourceSharingLibraries", u.purchase_request_libraries AS "purchaseRequestLibraries",
  u.cataloger_level AS "catalogerLevel", u.patron_letters AS "patronLetters"`;

/**
 * The users the records match, locked for the rest of the transaction in id
 * order (two loads of overlapping files queue instead of deadlocking).
 * `identifierType` null matches primary identifiers (keys lower-cased), else
 * the additional identifiers of that type (keys exact). Purged stubs have no
 * identifiers, so they never match.
 */
export function lockMatchedUsers(tx: EntityManager, institutionId: string, identifierType: string | null, keys: string[]): Promise<StoredUser[]> {
  if (keys.length === 0) return Promise.resolve([]);
  return identifierType === null
    ? tx.query(`SELECT ${STORED_COLUMNS}, lower(u.primary_identifier) AS "matchKey" FROM app_user u
                 WHERE u.institution_id = $1 AND lower(u.primary_identifier) = ANY($2::text[]) ORDER BY u.id FOR UPDATE OF u`, [institutionId, keys])
    : tx.query(`SELECT ${STORED_COLUMNS}, i.value AS "matchKey" FROM user_identifier i JOIN app_user u ON u.id = i.user_id
                 WHERE i.institution_id = $1 AND i.id_type = $2 AND i.value = ANY($3::text[]) ORDER BY u.id FOR UPDATE OF u`,
    [institutionId, identifierType, keys]);
}

/** A stored item of a user, with its row id and whether it is the SIS's. */
export type Stored<T> = T & { userId: string; external: boolean };

export interface StoredItems {
  identifiers: Stored<SisIdentifier>[];
  emails: Stored<SisEmail>[];
  addresses: Stored<SisAddress>[];
  phones: Stored<SisPhone>[];
  notes: Stored<SisNote>[];
  statistics: Stored<SisStatistic>[];
}

const dateText = (column: string, alias: string) => `to_char(${column}, 'YYYY-MM-DD') AS "${alias}"`;

/**
 * The items of the matched users the planner compares against: every
 * identifier, email, address and phone (internal ones decide conversions and
 * preferred flags), and the external notes and statistics (internal ones are
 * never the SIS's business).
 */
export async function findStoredItems(tx: EntityManager, institutionId: string, userIds: string[]): Promise<StoredItems> {
  const empty: StoredItems = { identifiers: [], emails: [], addresses: [], phones: [], notes: [], statistics: [] };
  if (userIds.length === 0) return empty;
  const params = [institutionId, userIds];
  const where = 'institution_id = $1 AND user_id = ANY($2::uuid[])';
  const [identifiers, emails, addresses, phones, notes, statistics] = [
    await tx.query(`SELECT user_id AS "userId", is_external AS external, id_type AS type, value, note FROM user_identifier WHERE ${where}`, params),
    await tx.query(`SELECT user_id AS "userId", is_external AS external, address, email_type AS type, description, is_preferred AS preferred,
                           ${dateText('start_date', 'startDate')}, ${dateText('end_date', 'endDate')} FROM user_email WHERE ${where}`, params),
    await tx.query(`SELECT user_id AS "userId", is_external AS external, address_type AS type, line1, line2, line3, city,
                           state_province AS "stateProvince", postal_code AS "postalCode", country, note, is_preferred AS preferred,
                           ${dateText('start_date', 'startDate')}, ${dateText('end_date', 'endDate')} FROM user_address WHERE ${where}`, params),
    await tx.query(`SELECT user_id AS "userId", is_external AS external, phone_number AS number, phone_type AS type, is_preferred AS preferred,
                           ${dateText('start_date', 'startDate')}, ${dateText('end_date', 'endDate')} FROM user_phone WHERE ${where}`, params),
    await tx.query(`SELECT user_id AS "userId", true AS external, note_type AS type, text, popup, user_viewable AS "userViewable"
                      FROM user_note WHERE ${where} AND is_external`, params),
    await tx.query(`SELECT user_id AS "userId", true AS external, category_type AS "categoryType", category, note
                      FROM user_statistic WHERE ${where} AND is_external`, params),
  ];
  return { identifiers, emails, addresses, phones, notes, statistics };
}

/** An identifier value held by a user: as its primary identifier (`heldAs` null) or an additional identifier of a type. */
export interface HeldValue {
  /** The primary identifier lower-cased, or the additional value exactly (and lower-cased, for clashes with primaries). */
  key: string;
  userId: string;
  heldAs: string | null;
  caseInsensitive: boolean;
}

/**
 * Who holds any of the batch's identifier values (R2.2, R2.4): primary
 * identifiers compare case-insensitively with every identifier, additional
 * values exactly with each other.
 */
export function findHeldValues(tx: EntityManager, institutionId: string, lowered: string[], exact: string[]): Promise<HeldValue[]> {
  return tx.query(
    `SELECT lower(u.primary_identifier) AS key, u.id AS "userId", NULL::text AS "heldAs", true AS "caseInsensitive"
       FROM app_user u WHERE u.institution_id = $1 AND lower(u.primary_identifier) = ANY($2::text[])
     UNION ALL
     SELECT lower(i.value), i.user_id, i.id_type, true FROM user_identifier i WHERE i.institution_id = $1 AND lower(i.value) = ANY($2::text[])
     UNION ALL
     SELECT i.value, i.user_id, i.id_type, false FROM user_identifier i WHERE i.institution_id = $1 AND i.value = ANY($3::text[])`,
    [institutionId, lowered, exact],
  );
}

/** The configured codes and library codes a batch is checked against, loaded once per call. */
export interface ReferenceCodes {
  codes: Map<string, Set<string>>;
  libraries: Set<string>;
}

export async function loadReferenceCodes(db: EntityManager, institutionId: string): Promise<ReferenceCodes> {
  const rows: { kind: string; code: string }[] = await db.query(`SELECT kind, code FROM code_value WHERE institution_id = $1`, [institutionId]);
  const libraries: { code: string }[] = await db.query(`SELECT code FROM library WHERE institution_id = $1`, [institutionId]);
  const codes = new Map<string, Set<string>>();
  for (const row of rows) (codes.get(row.kind) ?? codes.set(row.kind, new Set()).get(row.kind)!).add(row.code);
  return { codes, libraries: new Set(libraries.map((l) => l.code)) };
}

/** The columns the SIS writes, as jsonb_to_recordset declares them. */
const USER_COLUMNS: readonly (readonly [column: string, type: string, property: keyof SisFields | 'primaryIdentifier'])[] = [
  ['primary_identifier', 'text', 'primaryIdentifier'], ['record_type', 'text', 'recordType'], ['first_name', 'text', 'firstName'],
  ['middle_name', 'text', 'middleName'], ['last_name', 'text', 'lastName'], ['preferred_first_name', 'text', 'preferredFirstName'],
  ['preferred_middle_name', 'text', 'preferredMiddleName'], ['preferred_last_name', 'text', 'preferredLastName'], ['title', 'text', 'title'],
  ['pin_number', 'text', 'pinNumber'], ['job_category', 'text', 'jobCategory'], ['job_description', 'text', 'jobDescription'],
  ['gender', 'text', 'gender'], ['user_group', 'text', 'userGroup'], ['campus', 'text', 'campus'], ['website_url', 'text', 'websiteUrl'],
  ['preferred_language', 'text', 'preferredLanguage'], ['status', 'text', 'status'], ['birth_date', 'date', 'birthDate'],
  ['expiry_date', 'date', 'expiryDate'], ['purge_date', 'date', 'purgeDate'], ['resource_sharing_libraries', 'text[]', 'resourceSharingLibraries'],
  ['purchase_request_libraries', 'text[]', 'purchaseRequestLibraries'], ['cataloger_level', 'text', 'catalogerLevel'],
  ['patron_letters', 'text[]', 'patronLetters'],
];

/** A user row as the SIS leaves it: its fields (kept ones as staff set them), and the SIS's values of the keepable ones. */
export interface UserRow extends SisFields {
  primaryIdentifier: string;
  sisValues: Record<string, unknown>;
}

const recordset = (columns: readonly (readonly [string, string, string])[], extra: string) =>
  `jsonb_to_recordset($1::jsonb) AS r(${[...columns.map(([c, t]) => `${c} ${t}`), extra].join(', ')})`;

const asRecord = (row: UserRow) => Object.fromEntries([...USER_COLUMNS.map(([c, , p]) => [c, row[p]]), ['sis_values', row.sisValues]]);

/** Inserts new EXTERNAL users; returns their ids by lower-cased primary identifier. */
export async function insertUsers(tx: EntityManager, institutionId: string, owner: string, actor: string, rows: UserRow[]): Promise<Map<string, string>> {
  if (rows.length === 0) return new Map();
  const columns = USER_COLUMNS.map(([c]) => c).join(', ');
  const inserted: { id: string; key: string }[] = await tx.query(
    `INSERT INTO app_user (institution_id, account_type, external_owner, created_by, updated_by, sis_values, ${columns})
     SELECT $2, 'EXTERNAL', $3, $4, $4, r.sis_values, ${USER_COLUMNS.map(([c]) => `r.${c}`).join(', ')}
       FROM ${recordset(USER_COLUMNS, 'sis_values jsonb')}
     RETURNING id, lower(primary_identifier) AS key`,
    [JSON.stringify(rows.map(asRecord)), institutionId, owner, actor],
  );
  return new Map(inserted.map((r) => [r.key, r.id]));
}

/**
 * Rewrites changed users' SIS fields, owner and SIS values. The primary
 * identifier is left to renameUsers: naming it here would run the identifier
 * clash trigger for every row.
 */
export async function updateUsers(tx: EntityManager, owner: string, actor: string, rows: (UserRow & { id: string })[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = USER_COLUMNS.filter(([c]) => c !== 'primary_identifier');
  await tx.query(
    `UPDATE app_user u SET ${columns.map(([c]) => `${c} = r.${c}`).join(', ')}, sis_values = r.sis_values,
            external_owner = $2, updated_by = $3, updated_at = now()
       FROM ${recordset(columns, 'id uuid, sis_values jsonb')} WHERE u.id = r.id`,
    [JSON.stringify(rows.map((row) => ({ ...asRecord(row), id: row.id }))), owner, actor],
  );
}

/** The SIS changed only values staff keep: record its values, change nothing anyone sees (no updated date). */
export async function updateSisValues(tx: EntityManager, rows: { id: string; sisValues: Record<string, unknown> }[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(`UPDATE app_user u SET sis_values = r.sis_values FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, sis_values jsonb) WHERE u.id = r.id`,
    [JSON.stringify(rows.map((r) => ({ id: r.id, sis_values: r.sisValues })))]);
}

/** R2.1: the SIS renamed users (matched on another identifier); the clash trigger checks each new name. */
export async function renameUsers(tx: EntityManager, renames: { id: string; primaryIdentifier: string }[]): Promise<void> {
  if (renames.length === 0) return;
  await tx.query(`UPDATE app_user u SET primary_identifier = r.primary_identifier FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, primary_identifier text)
                   WHERE u.id = r.id`, [JSON.stringify(renames.map((r) => ({ id: r.id, primary_identifier: r.primaryIdentifier })))]);
}

/** The item tables the SIS writes, their columns and how an item's value is found for conversions. */
const ITEM_TABLES = {
  identifiers: { table: 'user_identifier', columns: [['id_type', 'text', 'type'], ['value', 'text', 'value'], ['note', 'text', 'note']], match: 'value' },
  emails: {
    table: 'user_email',
    columns: [['address', 'text', 'address'], ['email_type', 'text', 'type'], ['description', 'text', 'description'], ['is_preferred', 'boolean', 'preferred'],
      ['start_date', 'date', 'startDate'], ['end_date', 'date', 'endDate']],
    match: 'lower(address)',
  },
  addresses: {
    table: 'user_address',
    columns: [['address_type', 'text', 'type'], ['line1', 'text', 'line1'], ['line2', 'text', 'line2'], ['line3', 'text', 'line3'], ['city', 'text', 'city'],
      ['state_province', 'text', 'stateProvince'], ['postal_code', 'text', 'postalCode'], ['country', 'text', 'country'], ['note', 'text', 'note'],
      ['is_preferred', 'boolean', 'preferred'], ['start_date', 'date', 'startDate'], ['end_date', 'date', 'endDate']],
    match: null,
  },
  phones: {
    table: 'user_phone',
    columns: [['phone_number', 'text', 'number'], ['phone_type', 'text', 'type'], ['is_preferred', 'boolean', 'preferred'],
      ['start_date', 'date', 'startDate'], ['end_date', 'date', 'endDate']],
    match: null,
  },
  notes: {
    table: 'user_note',
    columns: [['note_type', 'text', 'type'], ['text', 'text', 'text'], ['popup', 'boolean', 'popup'], ['user_viewable', 'boolean', 'userViewable']],
    match: null,
  },
  statistics: { table: 'user_statistic', columns: [['category_type', 'text', 'categoryType'], ['category', 'text', 'category'], ['note', 'text', 'note']], match: null },
} as const;

export type ItemKind = keyof typeof ITEM_TABLES;
export const ITEM_KINDS = Object.keys(ITEM_TABLES) as ItemKind[];

/** One item to write, for a user. */
export type NewItem = { userId: string } & Record<string, unknown>;

/**
 * Replaces the external items of one kind for the given users: deletes them,
 * and the internal items whose value the SIS now sends (an identifier or
 * email the SIS sends becomes the SIS's, as the seeds' platform does), then
 * inserts the new ones, marked external.
 */
export async function replaceExternalItems(tx: EntityManager, institutionId: string, kind: ItemKind, userIds: string[], items: NewItem[], actor: string): Promise<void> {
  if (userIds.length === 0) return;
  const spec = ITEM_TABLES[kind];
  await tx.query(`DELETE FROM ${spec.table} WHERE institution_id = $1 AND user_id = ANY($2::uuid[]) AND is_external`, [institutionId, userIds]);
  if (spec.match && items.length > 0) {
    const values = items.map((i) => (spec.match === 'value' ? String(i.value) : String(i.address).toLowerCase()));
    await tx.query(`DELETE FROM ${spec.table} t USING unnest($2::uuid[], $3::text[]) AS n(user_id, value)
                     WHERE t.institution_id = $1 AND t.user_id = n.user_id AND ${spec.match === 'value' ? 't.value' : 'lower(t.address)'} = n.value`,
    [institutionId, items.map((i) => i.userId), values]);
  }
  if (items.length === 0) return;
  const columns = spec.columns as readonly (readonly [string, string, string])[];
  const createdBy = kind === 'notes' ? ', created_by' : '';
  await tx.query(
    `INSERT INTO ${spec.table} (institution_id, user_id, is_external${createdBy}, ${columns.map(([c]) => c).join(', ')})
     SELECT $2, r.user_id, true${kind === 'notes' ? ', $3' : ''}, ${columns.map(([c]) => `r.${c}`).join(', ')}
       FROM ${recordset(columns, 'user_id uuid')}`,
    [JSON.stringify(items.map((item) => Object.fromEntries([['user_id', item.userId], ...columns.map(([c, , p]) => [c, item[p] ?? null])]))),
      institutionId, ...(kind === 'notes' ? [actor] : [])],
  );
}

/** Every new user holds the Patron role, as createUser gives it. */
export async function insertPatronRoles(tx: EntityManager, institutionId: string, userIds: string[], actor: string): Promise<void> {
  if (userIds.length === 0) return;
  await tx.query(
    `INSERT INTO role_assignment (institution_id, user_id, role_type, scope_type, is_active, created_by)
     SELECT $1, u, 'PATRON', 'INSTITUTION', true, $3 FROM unnest($2::uuid[]) AS u`,
    [institutionId, userIds, actor],
  );
}

