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

/** A stored item of a user, and whether it is the SIS's. */
export type Stored<T> = T & { external: boolean };

/**
 * A user's items the planner compares against: every identifier, email,
 * address and phone (internal ones decide conversions and preferred flags),
 * and the external notes and statistics (internal ones are never the SIS's).
 */
export interface StoredItems {
  identifiers: Stored<SisIdentifier>[];
  emails: Stored<SisEmail>[];
  addresses: Stored<SisAddress>[];
  phones: Stored<SisPhone>[];
  notes: Stored<SisNote>[];
  statistics: Stored<SisStatistic>[];
}

/** A user a record matched, as the lock returns it: enough to tell whether the record can be unchanged. */
export interface MatchedUser {
  id: string;
  /** The value the record was matched on: the primary identifier lower-cased, or the additional identifier's value. */
  matchKey: string;
  accountType: AccountType;
  externalOwner: string | null;
  /** The record's digest equals the one last applied, and nobody changed the user since. */
  fresh: boolean;
}

/** A matched user as the planner compares against: the SIS's fields, its items, and what decides whether the SIS may write it. */
export interface StoredUser extends SisFields {
  id: string;
  primaryIdentifier: string;
  accountType: AccountType;
  externalOwner: string | null;
  isRestricted: boolean;
  keptFields: string[];
  sisValues: Record<string, unknown>;
  items: StoredItems;
}

const date = (column: string) => `to_char(${column}, 'YYYY-MM-DD')`;

/** Each kind of item of user `u` as a jsonb array, in the planner's property names. */
const ITEMS_OF_USER = {
  identifiers: `SELECT jsonb_agg(jsonb_build_object('external', x.is_external, 'type', x.id_type, 'value', x.value, 'note', x.note))
                  FROM user_identifier x WHERE x.user_id = u.id`,
  emails: `SELECT jsonb_agg(jsonb_build_object('external', x.is_external, 'address', x.address, 'type', x.email_type, 'description', x.description,
                  'preferred', x.is_preferred, 'startDate', ${date('x.start_date')}, 'endDate', ${date('x.end_date')})) FROM user_email x WHERE x.user_id = u.id`,
  addresses: `SELECT jsonb_agg(jsonb_build_object('external', x.is_external, 'type', x.address_type, 'line1', x.line1, 'line2', x.line2, 'line3', x.line3,
                  'city', x.city, 'stateProvince', x.state_province, 'postalCode', x.postal_code, 'country', x.country, 'note', x.note,
                  'preferred', x.is_preferred, 'startDate', ${date('x.start_date')}, 'endDate', ${date('x.end_date')})) FROM user_address x WHERE x.user_id = u.id`,
  phones: `SELECT jsonb_agg(jsonb_build_object('external', x.is_external, 'number', x.phone_number, 'type', x.phone_type, 'preferred', x.is_preferred,
                  'startDate', ${date('x.start_date')}, 'endDate', ${date('x.end_date')})) FROM user_phone x WHERE x.user_id = u.id`,
  notes: `SELECT jsonb_agg(jsonb_build_object('external', true, 'type', x.note_type, 'text', x.text, 'popup', x.popup, 'userViewable', x.user_viewable))
                  FROM user_note x WHERE x.user_id = u.id AND x.is_external`,
  statistics: `SELECT jsonb_agg(jsonb_build_object('external', true, 'categoryType', x.category_type, 'category', x.category, 'note', x.note))
                  FROM user_statistic x WHERE x.user_id = u.id AND x.is_external`,
};

const STORED_COLUMNS = `u.id, u.primary_identifier AS "primaryIdentifier", u.account_type AS "accountType", u.external_owner AS "externalOwner",
  u.is_restricted AS "isRestricted", u.kept_fields AS "keptFields", u.sis_values AS "sisValues",
  u.record_type AS "recordType", u.first_name AS "firstName", u.middle_name AS "middleName", u.last_name AS "lastName",
  u.preferred_first_name AS "preferredFirstName", u.preferred_middle_name AS "preferredMiddleName", u.preferred_last_name AS "preferredLastName",
  u.title, u.pin_number AS "pinNumber", u.job_category AS "jobCategory", u.job_description AS "jobDescription", u.gender,
  u.user_group AS "userGroup", u.campus, u.website_url AS "websiteUrl", u.preferred_language AS "preferredLanguage", u.status,
  u.birth_date AS "birthDate", u.expiry_date AS "expiryDate", u.purge_date AS "purgeDate",
  u.resource_sharing_libraries AS "resourceSharingLibraries", u.purchase_request_libraries AS "purchaseRequestLibraries",
  u.cataloger_level AS "catalogerLevel", u.patron_letters AS "patronLetters",
  jsonb_build_object(${Object.entries(ITEMS_OF_USER).map(([kind, sql]) => `'${kind}', coalesce((${sql}), '[]')`).join(', ')}) AS items`;

/**
 * The users the records match, each with whether its record (`hashes`, by
 * key) is the one last applied. Not locked: a fresh user is left alone, and
 * the others are locked when read in full (findStoredUsers).
 * `identifierType` null matches primary identifiers (keys lower-cased), else
 * the additional identifiers of that type (keys exact). Purged stubs have no
 * identifiers, so they never match.
 */
export function findMatchedUsers(tx: EntityManager, institutionId: string, identifierType: string | null, keys: string[], hashes: string[]): Promise<MatchedUser[]> {
  if (keys.length === 0) return Promise.resolve([]);
  const columns = `u.id, k.key AS "matchKey", u.account_type AS "accountType", u.external_owner AS "externalOwner",
                   coalesce(u.sis_hash = k.hash AND u.sis_synced_at = u.updated_at, false) AS fresh`;
  return identifierType === null
    ? tx.query(`SELECT ${columns} FROM unnest($2::text[], $3::text[]) AS k(key, hash)
                  JOIN app_user u ON u.institution_id = $1 AND lower(u.primary_identifier) = k.key`,
    [institutionId, keys, hashes])
    : tx.query(`SELECT ${columns} FROM unnest($2::text[], $3::text[]) AS k(key, hash)
                  JOIN user_identifier i ON i.institution_id = $1 AND i.id_type = $4 AND i.value = k.key
                  JOIN app_user u ON u.id = i.user_id`,
    [institutionId, keys, hashes, identifierType]);
}

/**
 * The matched users the planner compares field by field, with their items,
 * in one statement, locked for the rest of the transaction in id order (two
 * loads of overlapping files queue instead of deadlocking).
 */
export function lockStoredUsers(tx: EntityManager, institutionId: string, ids: string[]): Promise<StoredUser[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return tx.query(`SELECT ${STORED_COLUMNS} FROM app_user u WHERE u.institution_id = $1 AND u.id = ANY($2::uuid[]) ORDER BY u.id FOR UPDATE OF u`,
    [institutionId, ids]);
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
 * Who holds any of the given values (R2.2, R2.4): a primary identifier
 * compares case-insensitively with every identifier (`primaries`, lower-cased,
 * against both tables), an additional value exactly with the other additional
 * values and case-insensitively with primary identifiers (`additional`).
 */
export function findHeldValues(tx: EntityManager, institutionId: string, primaries: string[], additional: string[]): Promise<HeldValue[]> {
  if (primaries.length === 0 && additional.length === 0) return Promise.resolve([]);
  return tx.query(
    `SELECT lower(u.primary_identifier) AS key, u.id AS "userId", NULL::text AS "heldAs", true AS "caseInsensitive"
       FROM app_user u WHERE u.institution_id = $1 AND lower(u.primary_identifier) = ANY($2::text[] || $4::text[])
     UNION ALL
     SELECT lower(i.value), i.user_id, i.id_type, true FROM user_identifier i WHERE i.institution_id = $1 AND lower(i.value) = ANY($2::text[])
     UNION ALL
     SELECT i.value, i.user_id, i.id_type, false FROM user_identifier i WHERE i.institution_id = $1 AND i.value = ANY($3::text[])`,
    [institutionId, primaries, additional, additional.map((v) => v.toLowerCase())],
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

/** A user row as the SIS leaves it: its fields (kept ones as staff set them), the SIS's values of the keepable ones, the record's digest. */
export interface UserRow extends SisFields {
  primaryIdentifier: string;
  sisValues: Record<string, unknown>;
  sisHash: string;
}

const recordset = (columns: readonly (readonly [string, string, string])[], extra: string) =>
  `jsonb_to_recordset($1::jsonb) AS r(${[...columns.map(([c, t]) => `${c} ${t}`), extra].join(', ')})`;

const asRecord = (row: UserRow) =>
  Object.fromEntries([...USER_COLUMNS.map(([c, , p]) => [c, row[p]]), ['sis_values', row.sisValues], ['sis_hash', row.sisHash]]);

/** Inserts new EXTERNAL users; returns their ids by lower-cased primary identifier. */
export async function insertUsers(tx: EntityManager, institutionId: string, owner: string, actor: string, rows: UserRow[]): Promise<Map<string, string>> {
  if (rows.length === 0) return new Map();
  const columns = USER_COLUMNS.map(([c]) => c).join(', ');
  const inserted: { id: string; key: string }[] = await tx.query(
    `INSERT INTO app_user (institution_id, account_type, external_owner, created_by, updated_by, sis_values, sis_hash, updated_at, sis_synced_at, ${columns})
     SELECT $2, 'EXTERNAL', $3, $4, $4, r.sis_values, r.sis_hash, now(), now(), ${USER_COLUMNS.map(([c]) => `r.${c}`).join(', ')}
       FROM ${recordset(USER_COLUMNS, 'sis_values jsonb, sis_hash text')}
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
    `UPDATE app_user u SET ${columns.map(([c]) => `${c} = r.${c}`).join(', ')}, sis_values = r.sis_values, sis_hash = r.sis_hash,
            external_owner = $2, updated_by = $3, updated_at = now(), sis_synced_at = now()
       FROM ${recordset(columns, 'id uuid, sis_values jsonb, sis_hash text')} WHERE u.id = r.id`,
    [JSON.stringify(rows.map((row) => ({ ...asRecord(row), id: row.id }))), owner, actor],
  );
}

/**
 * A record that changes nothing anyone sees (equal to what is stored, or
 * different only in fields staff keep): remember the SIS's values and the
 * record's digest, so the next run finds it unchanged at once. The updated
 * date stays as it is.
 */
export async function markSynchronised(tx: EntityManager, rows: { id: string; sisValues: Record<string, unknown>; sisHash: string }[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(`UPDATE app_user u SET sis_values = r.sis_values, sis_hash = r.sis_hash, sis_synced_at = u.updated_at
                    FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, sis_values jsonb, sis_hash text) WHERE u.id = r.id`,
  [JSON.stringify(rows.map((r) => ({ id: r.id, sis_values: r.sisValues, sis_hash: r.sisHash })))]);
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
 * Replaces the external items of one kind for the given users (`existing`:
 * users that may hold some; new users hold none): deletes them, and the
 * internal items whose value the SIS now sends (an identifier or email the
 * SIS sends becomes the SIS's, as the seeds' platform does), then inserts the
 * new ones, marked external.
 */
export async function replaceExternalItems(tx: EntityManager, institutionId: string, kind: ItemKind, existing: string[], items: NewItem[], actor: string): Promise<void> {
  const spec = ITEM_TABLES[kind];
  if (existing.length > 0) {
    await tx.query(`DELETE FROM ${spec.table} WHERE institution_id = $1 AND user_id = ANY($2::uuid[]) AND is_external`, [institutionId, existing]);
  }
  const existingSet = new Set(existing);
  const converting = spec.match ? items.filter((i) => existingSet.has(i.userId)) : [];
  if (converting.length > 0) {
    const values = converting.map((i) => (spec.match === 'value' ? String(i.value) : String(i.address).toLowerCase()));
    await tx.query(`DELETE FROM ${spec.table} t USING unnest($2::uuid[], $3::text[]) AS n(user_id, value)
                     WHERE t.institution_id = $1 AND t.user_id = n.user_id AND ${spec.match === 'value' ? 't.value' : 'lower(t.address)'} = n.value`,
    [institutionId, converting.map((i) => i.userId), values]);
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


/** How many users the database holds, all institutions: what the planner's statistics are about. */
export async function userTableSize(db: EntityManager): Promise<number> {
  const [row] = await db.query(`SELECT reltuples::bigint AS n FROM pg_class WHERE oid = 'app_user'::regclass`);
  return Math.max(Number(row.n), 0);
}

/** Fresh planner statistics for the tables a load grows; cached plans that read them are made again. */
export async function analyzeUserTables(db: EntityManager): Promise<void> {
  await db.query('ANALYZE app_user, user_identifier, user_email, user_phone, user_address, role_assignment');
}
