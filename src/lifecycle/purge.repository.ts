import type { EntityManager } from 'typeorm';
import type { RecordType } from '../db/entities';
import { protectedAccountSql } from '../policy/protected-accounts.sql';
import type { PurgePolicy } from './delete-user-policy.repository';

/**
 * The statements of a purge (R10.3) and of the purge job's selection
 * (R10.4). Each takes a batch of user ids and costs one statement whatever
 * the batch's size, so purging 100,000 users is 200 batches of the same
 * dozen statements.
 */

/** What a purge writes where a personal value was. */
export const PURGED = '(purged)';

/** A user the purge job found due, with what the policy needs to judge it. */
export interface DueUser {
  id: string;
  primaryIdentifier: string | null;
  recordType: RecordType;
  isRestricted: boolean;
  purgeDate: string;
  /** R4.5, decided in SQL from the same lists as `isProtectedAccount`. */
  protected: boolean;
}

/** Where the job's keyset walk stands: the last (purge date, id) it read. */
export interface DuePosition {
  purgeDate: string;
  id: string;
}

/**
 * The day before which a purge date has passed with `graceDays` of grace:
 * due means purge_date + graceDays < today, i.e. purge_date < today - graceDays.
 */
export async function dueBeforeDay(db: EntityManager, graceDays: number): Promise<string> {
  const [row] = await db.query(`SELECT (current_date - $1::int)::text AS day`, [graceDays]);
  return row.day;
}

/** Served by app_user_purge_due_idx (institution_id, purge_date, id) WHERE purge_date IS NOT NULL AND purged_at IS NULL. */
const DUE = `institution_id = $1 AND purge_date IS NOT NULL AND purged_at IS NULL AND purge_date < $2::date`;

export async function countDueUsers(db: EntityManager, institutionId: string, dueBefore: string): Promise<number> {
  const [row] = await db.query(`SELECT count(*)::int AS count FROM app_user WHERE ${DUE}`, [institutionId, dueBefore]);
  return row.count;
}

/**
 * The next `limit` due users after `after` in (purge date, id) order. With
 * `lock`, their rows stay locked until the transaction ends and rows another
 * transaction holds are passed over (SKIP LOCKED): two jobs at once split
 * the users instead of purging one twice, and a row locked by a concurrent
 * edit waits for the next run. A purged user is no longer due (its row is
 * re-checked when it is locked), so an interrupted run resumes where it
 * stopped.
 */
export function findDueUsers(
  db: EntityManager,
  req: { institutionId: string; dueBefore: string; after: DuePosition | null; limit: number; lock: boolean },
): Promise<DueUser[]> {
  return db.query(
    `SELECT id, primary_identifier AS "primaryIdentifier", record_type AS "recordType", is_restricted AS "isRestricted",
            purge_date::text AS "purgeDate", ${protectedAccountSql('primary_identifier')} AS protected
       FROM app_user
      WHERE ${DUE} AND ($3::date IS NULL OR (purge_date, id) > ($3::date, $4::uuid))
      ORDER BY purge_date, id
      LIMIT $5${req.lock ? ' FOR UPDATE SKIP LOCKED' : ''}`,
    [req.institutionId, req.dueBefore, req.after?.purgeDate ?? null, req.after?.id ?? null, req.limit],
  );
}

/** The users' items that are personal data (attached files too: scanned forms, IDs); statistics join them when the policy does not keep them. */
const PERSONAL_ITEMS = ['user_identifier', 'user_email', 'user_address', 'user_phone', 'user_note', 'user_block', 'role_assignment', 'user_attachment'];

/** Deletes the users' personal items, all tables in one statement. */
export async function deletePersonalItems(tx: EntityManager, institutionId: string, userIds: string[], keepStatistics: boolean): Promise<void> {
  const tables = keepStatistics ? PERSONAL_ITEMS : [...PERSONAL_ITEMS, 'user_statistic'];
  const deletes = tables.map((t) => `${t}_gone AS (DELETE FROM ${t} WHERE institution_id = $1 AND user_id = ANY($2::uuid[]))`);
  await tx.query(`WITH ${deletes.join(', ')} SELECT 1`, [institutionId, userIds]);
}

/**
 * Turns the users' rows into anonymous stubs: every personal column cleared,
 * what the policy keeps kept (user group, campus, dates; `created_at` is
 * required, so without the dates it becomes the purge's moment), INACTIVE,
 * `purged_at` set, and `sessions_valid_after` moved so every token the user
 * held dies (as src/auth/sessions.repository.ts `endSessions` moves it, for
 * a whole batch at once).
 */
export async function anonymiseUsers(tx: EntityManager, institutionId: string, userIds: string[], keep: PurgePolicy, actor: string): Promise<void> {
  await tx.query(
    `UPDATE app_user SET
        primary_identifier = NULL, first_name = NULL, middle_name = NULL, last_name = NULL,
        preferred_first_name = NULL, preferred_middle_name = NULL, preferred_last_name = NULL, title = NULL,
        pin_number = NULL, job_description = NULL, gender = NULL, website_url = NULL, preferred_language = NULL, birth_date = NULL,
        password_hash = NULL, password_changed_at = NULL, force_password_change = false, mfa_enabled = false,
        resource_sharing_libraries = '{}', purchase_request_libraries = '{}', patron_letters = '{}', cataloger_level = NULL,
        kept_fields = '{}', sis_values = '{}', sis_hash = NULL, sis_synced_at = NULL, external_owner = NULL,
        user_group = CASE WHEN $3 THEN user_group END,
        campus = CASE WHEN $4 THEN campus END,
        expiry_date = CASE WHEN $5 THEN expiry_date END,
        purge_date = CASE WHEN $5 THEN purge_date END,
        last_patron_activity_date = CASE WHEN $5 THEN last_patron_activity_date END,
        created_at = CASE WHEN $5 THEN created_at ELSE now() END,
        status = 'INACTIVE', status_date = now(),
        sessions_valid_after = date_trunc('milliseconds', greatest(clock_timestamp(), coalesce(sessions_valid_after, '-infinity') + interval '1 millisecond')),
        purged_at = now(), updated_by = $6, updated_at = now()
      WHERE institution_id = $1 AND id = ANY($2::uuid[])`,
    [institutionId, userIds, keep.keepUserGroup, keep.keepCampus, keep.keepDates, actor],
  );
}

/** What the purge redacts besides the users' own rows: copies of their primary identifiers in linked users' proxy history. */
export interface Redaction {
  institutionId: string;
  userIds: string[];
  /** History fields whose values the purge keeps (the policy's kept fields and values that are never personal). */
  keptFields: string[];
  /** The purged users' primary identifiers, as other users' proxy entries quote them. */
  identifiers: string[];
  /** Users that were linked to the purged ones by a proxy link. */
  linkedUserIds: string[];
}

/** The proxy fields of a linked user's history and events that quote the purged user. */
const PROXY_FIELDS = `ARRAY['proxyFor', 'proxies']`;

/**
 * The users whose entries a redaction reads, each marked `own` (a purged
 * user) or not (a linked one), joined rather than tested with `= ANY` on
 * every row and value: with 500 ids, the test cost more than the update.
 */
const REDACTED_USERS = `(SELECT id, true AS own FROM unnest($2::uuid[]) AS id
                         UNION ALL SELECT id, false FROM unnest($5::uuid[]) AS id) t`;

/**
 * Redacts what the users' earlier history copied (R9 records old and new
 * values): every value of their own entries but the kept fields, and the
 * linked users' proxy entries that name them.
 */
export async function redactHistory(tx: EntityManager, r: Redaction): Promise<void> {
  const redact = (column: string) => `CASE WHEN h.${column} IS NOT NULL AND (t.own OR h.${column} = ANY($4::text[])) THEN '${PURGED}' ELSE h.${column} END`;
  await tx.query(
    `UPDATE history_entry h SET old_value = ${redact('old_value')}, new_value = ${redact('new_value')}
       FROM ${REDACTED_USERS}
      WHERE h.user_id = t.id AND h.institution_id = $1
        AND CASE WHEN t.own THEN h.field <> ALL($3::text[])
                 ELSE h.field = ANY(${PROXY_FIELDS}) AND (h.old_value = ANY($4::text[]) OR h.new_value = ANY($4::text[])) END`,
    [r.institutionId, r.userIds, r.keptFields, r.identifiers, r.linkedUserIds],
  );
}

/** Payload keys of user events that never hold personal data (besides ids, `...Id` and `...Ids`). */
const SAFE_PAYLOAD_KEYS = ['fields', 'kind', 'role', 'active', 'fulfillment', 'recordType', 'accountType'];

/**
 * The same for outbox events about the users (R11.3 events carry history's
 * changes): in their own events, every change value but the kept fields'
 * and every payload key but ids and SAFE_PAYLOAD_KEYS; in linked users'
 * proxy events, the values that name a purged user.
 */
export async function redactEvents(tx: EntityManager, r: Redaction): Promise<void> {
  const value = (v: string) =>
    `CASE WHEN coalesce(jsonb_typeof(${v}), 'null') <> 'null' AND (t.own OR ${v} #>> '{}' = ANY($4::text[])) THEN to_jsonb('${PURGED}'::text) ELSE ${v} END`;
  const change = `CASE WHEN t.own AND c->>'field' = ANY($3::text[]) THEN c
                       ELSE c || jsonb_build_object('oldValue', ${value(`c->'oldValue'`)}, 'newValue', ${value(`c->'newValue'`)}) END`;
  await tx.query(
    `UPDATE event_outbox e SET payload = (
        SELECT coalesce(jsonb_object_agg(p.key, CASE
                 WHEN p.key = 'changes' AND jsonb_typeof(p.value) = 'array'
                   THEN (SELECT coalesce(jsonb_agg(${change} ORDER BY n), '[]'::jsonb) FROM jsonb_array_elements(p.value) WITH ORDINALITY AS x(c, n))
                 WHEN NOT t.own OR p.key = ANY($6::text[]) OR p.key ~ 'Ids?$' THEN p.value
                 ELSE to_jsonb('${PURGED}'::text) END), '{}'::jsonb)
          FROM jsonb_each(e.payload) AS p(key, value))
       FROM ${REDACTED_USERS}
      WHERE e.aggregate_id = t.id AND e.institution_id = $1 AND e.aggregate_type = 'USER'
        AND (t.own OR e.event_type IN ('PROXY_ADDED', 'PROXY_REMOVED'))`,
    [r.institutionId, r.userIds, r.keptFields, r.identifiers, r.linkedUserIds, SAFE_PAYLOAD_KEYS],
  );
}

/** Sign-in attempts keep the fact and time (R11.1) but not the identifier the user typed. */
export async function redactLoginAttempts(tx: EntityManager, institutionId: string, userIds: string[]): Promise<void> {
  await tx.query(`UPDATE login_attempt SET identifier = '${PURGED}' WHERE institution_id = $1 AND user_id = ANY($2::uuid[])`, [institutionId, userIds]);
}
