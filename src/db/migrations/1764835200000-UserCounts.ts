import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 12: an exact `users { totalCount }` without counting every matching
 * user (a scan of app_user: about 40 ms at 100,000 users).
 *
 * - `user_count_delta`: signed counts of users that are not purged (the
 *   lists' and counts' users, R10.3), per institution and coarse key (the
 *   list's record type, account type and status filters, R1.2, R1.5). The
 *   expiry date is part of the key, not a precomputed "expired" flag: the
 *   ACTIVE_NOT_EXPIRED condition is evaluated when the count is read, so a
 *   user whose expiry date passes moves across on that day with no write.
 * - Rows are only ever appended by the writers (no unique key, no upsert):
 *   a writer takes no row lock on a counter, so concurrent transactions
 *   creating or changing users never wait on one another or deadlock over a
 *   counter. src/users/user-counts.repository.ts folds them now and then.
 * - Statement-level AFTER triggers with transition tables write one row per
 *   key a statement changes, in the writer's transaction, so a reader's
 *   snapshot sees the users and their deltas together: the sum is exact.
 *   One trigger per event: PostgreSQL refuses transition tables on a trigger
 *   for several events, and on one with a column list (so every UPDATE
 *   fires it, and the function skips keys whose net change is zero).
 * - TRUNCATE fires no row triggers: the deltas are emptied with the users.
 */
export class UserCounts1764835200000 implements MigrationInterface {
  name = 'UserCounts1764835200000';

  public async up(q: QueryRunner): Promise<void> {
    // No foreign key to institution: it would add a check and a lock on the institution row to every write.
    await q.query(`
      CREATE TABLE user_count_delta (
        institution_id uuid NOT NULL,
        record_type text NOT NULL,
        account_type text NOT NULL,
        status text NOT NULL,
        expiry_date date,
        n bigint NOT NULL
      )`);
    // The read filters on the leading columns and sums n: an index-only scan where the visibility map allows.
    await q.query(`CREATE INDEX user_count_delta_key_idx ON user_count_delta (institution_id, record_type, account_type, status, expiry_date)
                     INCLUDE (n)`);
    await q.query(`
      CREATE FUNCTION carrel_user_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO user_count_delta (institution_id, record_type, account_type, status, expiry_date, n)
        SELECT institution_id, record_type, account_type, status, expiry_date, count(*)
        FROM inserted_users WHERE purged_at IS NULL
        GROUP BY institution_id, record_type, account_type, status, expiry_date;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION carrel_user_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO user_count_delta (institution_id, record_type, account_type, status, expiry_date, n)
        SELECT institution_id, record_type, account_type, status, expiry_date, -count(*)
        FROM deleted_users WHERE purged_at IS NULL
        GROUP BY institution_id, record_type, account_type, status, expiry_date;
        RETURN NULL;
      END $$`);
    // Most updates change no key (names, dates, updated_at): their rows cancel out and nothing is written.
    await q.query(`
      CREATE FUNCTION carrel_user_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO user_count_delta (institution_id, record_type, account_type, status, expiry_date, n)
        SELECT institution_id, record_type, account_type, status, expiry_date, sum(n)
        FROM (SELECT institution_id, record_type, account_type, status, expiry_date, 1 AS n
              FROM new_users WHERE purged_at IS NULL
              UNION ALL
              SELECT institution_id, record_type, account_type, status, expiry_date, -1
              FROM old_users WHERE purged_at IS NULL) AS change
        GROUP BY institution_id, record_type, account_type, status, expiry_date
        HAVING sum(n) <> 0;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION carrel_user_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM user_count_delta;
        RETURN NULL;
      END $$`);
    // Creating the triggers locks app_user against writes until this migration commits, so the backfill below
    // counts every user written before the triggers and none that they count.
    await q.query(`CREATE TRIGGER app_user_count_insert AFTER INSERT ON app_user REFERENCING NEW TABLE AS inserted_users
                   FOR EACH STATEMENT EXECUTE FUNCTION carrel_user_count_inserted()`);
    await q.query(`CREATE TRIGGER app_user_count_update AFTER UPDATE ON app_user REFERENCING OLD TABLE AS old_users NEW TABLE AS new_users
                   FOR EACH STATEMENT EXECUTE FUNCTION carrel_user_count_updated()`);
    await q.query(`CREATE TRIGGER app_user_count_delete AFTER DELETE ON app_user REFERENCING OLD TABLE AS deleted_users
                   FOR EACH STATEMENT EXECUTE FUNCTION carrel_user_count_deleted()`);
    await q.query(`CREATE TRIGGER app_user_count_truncate AFTER TRUNCATE ON app_user
                   FOR EACH STATEMENT EXECUTE FUNCTION carrel_user_count_truncated()`);
    await q.query(`
      INSERT INTO user_count_delta (institution_id, record_type, account_type, status, expiry_date, n)
      SELECT institution_id, record_type, account_type, status, expiry_date, count(*)
      FROM app_user WHERE purged_at IS NULL
      GROUP BY institution_id, record_type, account_type, status, expiry_date`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER app_user_count_truncate ON app_user`);
    await q.query(`DROP TRIGGER app_user_count_delete ON app_user`);
    await q.query(`DROP TRIGGER app_user_count_update ON app_user`);
    await q.query(`DROP TRIGGER app_user_count_insert ON app_user`);
    await q.query(`DROP FUNCTION carrel_user_count_truncated()`);
    await q.query(`DROP FUNCTION carrel_user_count_updated()`);
    await q.query(`DROP FUNCTION carrel_user_count_deleted()`);
    await q.query(`DROP FUNCTION carrel_user_count_inserted()`);
    await q.query(`DROP TABLE user_count_delta`);
  }
}
