import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 10: SIS synchronisation, deleting and purging users.
 *
 * - `app_user.sis_values`: the values the SIS last sent for the fields staff
 *   may keep (R3.4), so a staff edit that sets a kept field back to the SIS's
 *   value re-synchronises it, and a sync can tell "kept" from "stale".
 * - `app_user.sis_hash`, `sis_synced_at`: a digest of the SIS record last
 *   applied and the user's updated date right after; when both still hold, a
 *   record with the same digest is unchanged without reading the user's items.
 * - `app_user.purged_at`: a purged user (R10.3) stays as an anonymous stub
 *   that history and reports refer to; a stub has no names and no primary
 *   identifier, so the two checks that require them exempt it.
 * - The institution's delete-user policy: what a purge keeps (default: all).
 * - The purge job's index: users with a purge date not yet purged, by date.
 * - An index on the outbox's aggregate, so a purge can redact the personal
 *   data in the user's earlier events without scanning the outbox.
 */
export class UserLifecycle1764662400000 implements MigrationInterface {
  name = 'UserLifecycle1764662400000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE app_user ADD COLUMN sis_values jsonb NOT NULL DEFAULT '{}', ADD COLUMN sis_hash text, ADD COLUMN sis_synced_at timestamptz`);
    await q.query(`ALTER TABLE app_user ADD COLUMN purged_at timestamptz`);
    await q.query(`ALTER TABLE app_user DROP CONSTRAINT app_user_names_required`);
    await q.query(`ALTER TABLE app_user DROP CONSTRAINT app_user_primary_identifier_required`);
    await q.query(`ALTER TABLE app_user ADD CONSTRAINT app_user_names_required
                     CHECK (record_type = 'CONTACT' OR purged_at IS NOT NULL OR (first_name IS NOT NULL AND last_name IS NOT NULL))`);
    await q.query(`ALTER TABLE app_user ADD CONSTRAINT app_user_primary_identifier_required
                     CHECK (record_type = 'CONTACT' OR purged_at IS NOT NULL OR primary_identifier IS NOT NULL)`);
    await q.query(`DROP INDEX app_user_purge_date_idx`);
    await q.query(`CREATE INDEX app_user_purge_due_idx ON app_user (institution_id, purge_date, id)
                     WHERE purge_date IS NOT NULL AND purged_at IS NULL`);
    await q.query(`ALTER TABLE institution
                     ADD COLUMN purge_keeps_statistics boolean NOT NULL DEFAULT true,
                     ADD COLUMN purge_keeps_user_group boolean NOT NULL DEFAULT true,
                     ADD COLUMN purge_keeps_campus boolean NOT NULL DEFAULT true,
                     ADD COLUMN purge_keeps_dates boolean NOT NULL DEFAULT true`);
    await q.query(`CREATE INDEX event_outbox_aggregate_idx ON event_outbox (aggregate_id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX event_outbox_aggregate_idx`);
    await q.query(`ALTER TABLE institution DROP COLUMN purge_keeps_statistics, DROP COLUMN purge_keeps_user_group,
                     DROP COLUMN purge_keeps_campus, DROP COLUMN purge_keeps_dates`);
    await q.query(`DROP INDEX app_user_purge_due_idx`);
    await q.query(`CREATE INDEX app_user_purge_date_idx ON app_user (institution_id, purge_date) WHERE purge_date IS NOT NULL`);
    await q.query(`DELETE FROM app_user WHERE purged_at IS NOT NULL`);
    await q.query(`ALTER TABLE app_user DROP CONSTRAINT app_user_names_required`);
    await q.query(`ALTER TABLE app_user DROP CONSTRAINT app_user_primary_identifier_required`);
    await q.query(`ALTER TABLE app_user ADD CONSTRAINT app_user_names_required
                     CHECK (record_type = 'CONTACT' OR (first_name IS NOT NULL AND last_name IS NOT NULL))`);
    await q.query(`ALTER TABLE app_user ADD CONSTRAINT app_user_primary_identifier_required
                     CHECK (record_type = 'CONTACT' OR primary_identifier IS NOT NULL)`);
    await q.query(`ALTER TABLE app_user DROP COLUMN purged_at, DROP COLUMN sis_values, DROP COLUMN sis_hash, DROP COLUMN sis_synced_at`);
  }
}
