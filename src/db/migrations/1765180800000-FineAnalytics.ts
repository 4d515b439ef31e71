import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 14: analysts' reads across every fine of the institution.
 *
 * A scan of a million fines costs about 200 ms on a 2-core machine before it sums anything (count(*) alone: 176 ms;
 * grouped by owner and type: 240 ms; by the user's group, joining app_user: 500 ms), so totals come from counters the
 * database keeps, exactly as the user counts do (1764835200000-UserCounts):
 *
 * - `fine_total_delta`: signed counts and sums of fines per institution and key (owner, fee type, status, UTC month
 *   created, the user's group and record type, ever disputed). Statement-level triggers with transition tables append
 *   one row per key a statement changes, in the writer's transaction, with no row lock; a job folds them now and then
 *   (src/analytics/fine-totals.repository.ts). A reader's snapshot sees the fines and their deltas together: exact.
 * - The fine keeps what the counters and the filters need and the ledger or the user holds: `paid_amount`,
 *   `waived_amount` (positive sums of its PAY and WAIVE actions) and `disputed` (a DISPUTE in its ledger), written by
 *   the statement that records an action's balance (src/fines/ledger.repository.ts applyFineActions; a trigger
 *   updating the fine a second time cost a third of waiveFines' throughput); `user_group`, `user_record_type` and
 *   `user_expiry_date`, copied from the user when the fine is inserted and again whenever the user's change (a trigger).
 *   Copies rather than joins: a user's deletion cascades to its fines after the user row is gone.
 * - `fine_action_total_delta`: the ledger's counts and sums per owner, fee type, action type, reason, payment method
 *   and UTC month, appended on insert and delete (actions never change); the action carries copies of its fine's
 *   owner and fee type for them.
 * - Keyset indexes for the cross-user lists (fines by date, status date, amounts; actions by date and amount).
 */
export class FineAnalytics1765180800000 implements MigrationInterface {
  name = 'FineAnalytics1765180800000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE fine_fee
        ADD COLUMN paid_amount numeric(14,2) NOT NULL DEFAULT 0,
        ADD COLUMN waived_amount numeric(14,2) NOT NULL DEFAULT 0,
        ADD COLUMN disputed boolean NOT NULL DEFAULT false,
        ADD COLUMN user_group text,
        ADD COLUMN user_record_type text,
        ADD COLUMN user_expiry_date date`);
    await q.query(`UPDATE fine_fee f SET user_group = u.user_group, user_record_type = u.record_type, user_expiry_date = u.expiry_date
                     FROM app_user u WHERE u.id = f.user_id`);
    await q.query(`
      UPDATE fine_fee f SET paid_amount = l.paid, waived_amount = l.waived, disputed = l.disputed
        FROM (SELECT fine_id,
                     -coalesce(sum(amount) FILTER (WHERE action_type = 'PAY'), 0) AS paid,
                     -coalesce(sum(amount) FILTER (WHERE action_type = 'WAIVE'), 0) AS waived,
                     bool_or(action_type = 'DISPUTE') AS disputed
                FROM fine_fee_action WHERE action_type IN ('PAY', 'WAIVE', 'DISPUTE') GROUP BY fine_id) l
       WHERE f.id = l.fine_id`);
    await q.query(`ALTER TABLE fine_fee ALTER COLUMN user_record_type SET NOT NULL`);

    // The copies of the user's group, record type and expiry date: set on insert, moved with the user.
    await q.query(`
      CREATE FUNCTION carrel_fine_user_copy() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        SELECT u.user_group, u.record_type, u.expiry_date INTO NEW.user_group, NEW.user_record_type, NEW.user_expiry_date
          FROM app_user u WHERE u.id = NEW.user_id;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER fine_fee_user_copy BEFORE INSERT ON fine_fee FOR EACH ROW EXECUTE FUNCTION carrel_fine_user_copy()`);
    await q.query(`
      CREATE FUNCTION carrel_fine_user_moved() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE fine_fee SET user_group = NEW.user_group, user_record_type = NEW.record_type, user_expiry_date = NEW.expiry_date
         WHERE user_id = NEW.id;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER app_user_fine_copy AFTER UPDATE OF user_group, record_type, expiry_date ON app_user FOR EACH ROW
        WHEN (OLD.user_group IS DISTINCT FROM NEW.user_group OR OLD.record_type IS DISTINCT FROM NEW.record_type
              OR OLD.expiry_date IS DISTINCT FROM NEW.expiry_date)
        EXECUTE FUNCTION carrel_fine_user_moved()`);


    // No foreign key to institution: it would add a check and a lock on the institution row to every write.
    await q.query(`
      CREATE TABLE fine_total_delta (
        institution_id uuid NOT NULL,
        owner_library_id uuid,
        fine_type text NOT NULL,
        status text NOT NULL,
        created_month date NOT NULL,
        user_group text,
        record_type text NOT NULL,
        disputed boolean NOT NULL,
        n bigint NOT NULL,
        original numeric NOT NULL,
        remaining numeric NOT NULL,
        paid numeric NOT NULL,
        waived numeric NOT NULL
      )`);
    await q.query(`CREATE INDEX fine_total_delta_key_idx ON fine_total_delta (institution_id, owner_library_id, fine_type, status, created_month)`);
    const key = `institution_id, owner_library_id, fine_type, status, (date_trunc('month', created_at AT TIME ZONE 'UTC'))::date,
                 user_group, user_record_type, disputed`;
    const insertDeltas = (select: string) => `
      INSERT INTO fine_total_delta (institution_id, owner_library_id, fine_type, status, created_month, user_group, record_type, disputed,
                                    n, original, remaining, paid, waived)
      ${select}`;
    await q.query(`
      CREATE FUNCTION carrel_fine_total_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${insertDeltas(`SELECT ${key}, count(*), sum(original_amount), sum(remaining_amount), sum(paid_amount), sum(waived_amount)
                          FROM inserted_fines GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`)};
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION carrel_fine_total_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${insertDeltas(`SELECT ${key}, -count(*), -sum(original_amount), -sum(remaining_amount), -sum(paid_amount), -sum(waived_amount)
                          FROM deleted_fines GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`)};
        RETURN NULL;
      END $$`);
    // Updates that change neither a key nor an amount (a comment) cancel out and write nothing.
    await q.query(`
      CREATE FUNCTION carrel_fine_total_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${insertDeltas(`SELECT ${key}, sum(n), sum(n * original_amount), sum(n * remaining_amount), sum(n * paid_amount), sum(n * waived_amount)
                          FROM (SELECT *, 1 AS n FROM new_fines
                                UNION ALL
                                SELECT *, -1 AS n FROM old_fines) AS change
                         GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
                        HAVING sum(n) <> 0 OR sum(n * original_amount) <> 0 OR sum(n * remaining_amount) <> 0 OR sum(n * paid_amount) <> 0
                            OR sum(n * waived_amount) <> 0`)};
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION carrel_fine_total_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM fine_total_delta;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER fine_fee_total_insert AFTER INSERT ON fine_fee REFERENCING NEW TABLE AS inserted_fines
                   FOR EACH STATEMENT EXECUTE FUNCTION carrel_fine_total_inserted()`);
    await q.query(`CREATE TRIGGER fine_fee_total_update AFTER UPDATE ON fine_fee REFERENCING OLD TABLE AS old_fines NEW TABLE AS new_fines
                   FOR EACH STATEMENT EXECUTE FUNCTION carrel_fine_total_updated()`);
    await q.query(`CREATE TRIGGER fine_fee_total_delete AFTER DELETE ON fine_fee REFERENCING OLD TABLE AS deleted_fines
                   FOR EACH STATEMENT EXECUTE FUNCTION carrel_fine_total_deleted()`);
    await q.query(`CREATE TRIGGER fine_fee_total_truncate AFTER TRUNCATE ON fine_fee
                   FOR EACH STATEMENT EXECUTE FUNCTION carrel_fine_total_truncated()`);
    // The ALTER TABLE above locks fine_fee against writes until this migration commits: the backfill counts every fine
    // once, and the triggers every later change.
    await q.query(insertDeltas(`SELECT ${key}, count(*), sum(original_amount), sum(remaining_amount), sum(paid_amount), sum(waived_amount)
                                  FROM fine_fee GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`));

    // The ledger's totals, kept the same way. An action never changes, and its fine's owner and type never do: the
    // action carries copies of them (set on insert), so neither the totals nor a deletion cascading from the fine need
    // the fine row, which a cascade has already removed.
    await q.query(`ALTER TABLE fine_fee_action ADD COLUMN owner_library_id uuid, ADD COLUMN fine_type text`);
    await q.query(`UPDATE fine_fee_action a SET owner_library_id = f.owner_library_id, fine_type = f.fine_type FROM fine_fee f WHERE f.id = a.fine_id`);
    await q.query(`ALTER TABLE fine_fee_action ALTER COLUMN fine_type SET NOT NULL`);
    await q.query(`
      CREATE FUNCTION carrel_fine_action_copy() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.fine_type IS NULL THEN
          SELECT f.owner_library_id, f.fine_type INTO NEW.owner_library_id, NEW.fine_type FROM fine_fee f WHERE f.id = NEW.fine_id;
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER fine_fee_action_copy BEFORE INSERT ON fine_fee_action FOR EACH ROW EXECUTE FUNCTION carrel_fine_action_copy()`);
    await q.query(`
      CREATE TABLE fine_action_total_delta (
        institution_id uuid NOT NULL,
        owner_library_id uuid,
        fine_type text NOT NULL,
        action_type text NOT NULL,
        reason text,
        payment_method text,
        action_month date NOT NULL,
        n bigint NOT NULL,
        amount numeric NOT NULL
      )`);
    await q.query(`CREATE INDEX fine_action_total_delta_key_idx ON fine_action_total_delta (institution_id, action_type, owner_library_id, fine_type)`);
    const actionKey = `institution_id, owner_library_id, fine_type, action_type, reason, payment_method,
                       (date_trunc('month', created_at AT TIME ZONE 'UTC'))::date`;
    const insertActionDeltas = (sign: string, from: string) => `
      INSERT INTO fine_action_total_delta (institution_id, owner_library_id, fine_type, action_type, reason, payment_method, action_month, n, amount)
      SELECT ${actionKey}, ${sign}count(*), ${sign}sum(amount) FROM ${from} GROUP BY 1, 2, 3, 4, 5, 6, 7`;
    await q.query(`
      CREATE FUNCTION carrel_fine_action_total_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${insertActionDeltas('', 'inserted_actions')};
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION carrel_fine_action_total_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${insertActionDeltas('-', 'deleted_actions')};
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION carrel_fine_action_total_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM fine_action_total_delta;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER fine_fee_action_total_insert AFTER INSERT ON fine_fee_action REFERENCING NEW TABLE AS inserted_actions
                   FOR EACH STATEMENT EXECUTE FUNCTION carrel_fine_action_total_inserted()`);
    await q.query(`CREATE TRIGGER fine_fee_action_total_delete AFTER DELETE ON fine_fee_action REFERENCING OLD TABLE AS deleted_actions
                   FOR EACH STATEMENT EXECUTE FUNCTION carrel_fine_action_total_deleted()`);
    await q.query(`CREATE TRIGGER fine_fee_action_total_truncate AFTER TRUNCATE ON fine_fee_action
                   FOR EACH STATEMENT EXECUTE FUNCTION carrel_fine_action_total_truncated()`);
    await q.query(insertActionDeltas('', 'fine_fee_action'));

    // Fines of users expiring in a range ("this term"): counted from the index alone.
    await q.query(`CREATE INDEX fine_fee_user_expiry_idx ON fine_fee (institution_id, user_expiry_date)
                     INCLUDE (status, owner_library_id, original_amount, remaining_amount, paid_amount, waived_amount)`);
    // Keyset orders of the lists across users (the id breaks ties).
    await q.query(`CREATE INDEX fine_fee_created_idx ON fine_fee (institution_id, created_at, id)`);
    await q.query(`CREATE INDEX fine_fee_status_date_idx ON fine_fee (institution_id, status_date, id)`);
    await q.query(`CREATE INDEX fine_fee_original_idx ON fine_fee (institution_id, original_amount, id)`);
    await q.query(`CREATE INDEX fine_fee_remaining_idx ON fine_fee (institution_id, remaining_amount, id)`);
    await q.query(`CREATE INDEX fine_fee_action_created_idx ON fine_fee_action (institution_id, created_at, id)`);
    await q.query(`CREATE INDEX fine_fee_action_amount_idx ON fine_fee_action (institution_id, amount, id)`);
    // "What did this operator waive": the ledger by operator, which the kept totals do not know.
    await q.query(`CREATE INDEX fine_fee_action_operator_idx ON fine_fee_action (institution_id, created_by, created_at)`);
    // Sums of one kind of action the kept totals cannot answer (by fines' other attributes, by day): the kind and the
    // instant lead, the rest is carried.
    await q.query(`CREATE INDEX fine_fee_action_type_idx ON fine_fee_action (institution_id, action_type, created_at)
                     INCLUDE (fine_id, amount, reason, payment_method, owner_library_id, fine_type)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const index of ['fine_fee_action_operator_idx', 'fine_fee_action_type_idx', 'fine_fee_action_amount_idx', 'fine_fee_action_created_idx', 'fine_fee_remaining_idx',
      'fine_fee_original_idx', 'fine_fee_status_date_idx', 'fine_fee_created_idx', 'fine_fee_user_expiry_idx']) {
      await q.query(`DROP INDEX ${index}`);
    }
    for (const trigger of ['fine_fee_total_truncate', 'fine_fee_total_delete', 'fine_fee_total_update', 'fine_fee_total_insert', 'fine_fee_user_copy']) {
      await q.query(`DROP TRIGGER ${trigger} ON fine_fee`);
    }
    for (const trigger of ['fine_fee_action_copy', 'fine_fee_action_total_insert', 'fine_fee_action_total_delete',
      'fine_fee_action_total_truncate']) {
      await q.query(`DROP TRIGGER ${trigger} ON fine_fee_action`);
    }
    await q.query(`DROP TRIGGER app_user_fine_copy ON app_user`);
    for (const fn of ['carrel_fine_total_truncated', 'carrel_fine_total_updated', 'carrel_fine_total_deleted', 'carrel_fine_total_inserted',
      'carrel_fine_user_moved', 'carrel_fine_user_copy', 'carrel_fine_action_copy', 'carrel_fine_action_total_inserted',
      'carrel_fine_action_total_deleted', 'carrel_fine_action_total_truncated']) {
      await q.query(`DROP FUNCTION ${fn}()`);
    }
    await q.query(`DROP TABLE fine_action_total_delta`);
    await q.query(`DROP TABLE fine_total_delta`);
    await q.query(`ALTER TABLE fine_fee_action DROP COLUMN fine_type, DROP COLUMN owner_library_id`);
    await q.query(`ALTER TABLE fine_fee DROP COLUMN user_expiry_date, DROP COLUMN user_record_type, DROP COLUMN user_group, DROP COLUMN disputed,
                     DROP COLUMN waived_amount, DROP COLUMN paid_amount`);
  }
}
