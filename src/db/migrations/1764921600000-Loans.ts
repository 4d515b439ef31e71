import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 13 item 2: loans recorded by circulation (recordLoan, returnLoan).
 *
 * - One item is on one open loan at a time in an institution: a partial
 *   unique index, so two desks recording the same barcode at once cannot
 *   both succeed (the insert's ON CONFLICT waits for the other transaction).
 * - A user's loans of any status are listed by user (User.loans(status: ALL)).
 * - The dates make sense: due and returned not before the loan (recordLoan asks more: due after it).
 */
export class Loans1764921600000 implements MigrationInterface {
  name = 'Loans1764921600000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNIQUE INDEX loan_open_item_idx ON loan (institution_id, item_barcode) WHERE returned_at IS NULL`);
    await q.query(`CREATE INDEX loan_user_idx ON loan (user_id, loan_date)`);
    await q.query(`ALTER TABLE loan ADD CONSTRAINT loan_dates_check
                     CHECK (due_date >= loan_date AND (returned_at IS NULL OR returned_at >= loan_date))`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE loan DROP CONSTRAINT loan_dates_check`);
    await q.query(`DROP INDEX loan_user_idx`);
    await q.query(`DROP INDEX loan_open_item_idx`);
  }
}
