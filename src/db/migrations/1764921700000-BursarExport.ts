import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 13 item 3: exporting ACTIVE fines to the bursar (R7.6, R7.9).
 *
 * - `institution.currency`: the ISO 4217 code every amount of the
 *   institution is in; the export files name it on every line.
 * - `bursar_export_batch`: one row per export, unique by the client's batch
 *   id in the institution, so a re-run with the same id (even a concurrent
 *   one: the insert waits for the other) finds the stored batch instead of
 *   exporting again. `seq` orders batches for paging.
 * - `bursar_export_line`: the fines a batch transferred and the amount of
 *   each. No foreign keys to the fine or the user: the record of what was
 *   handed to the bursar outlives a deleted user, like history. The user's
 *   primary identifier is not copied (it is read from the user when the batch
 *   is read), so a purge leaves no personal data here.
 * - The fine ledger's TRANSFER action already exists (InitialSchema).
 */
export class BursarExport1764921700000 implements MigrationInterface {
  name = 'BursarExport1764921700000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE institution ADD COLUMN currency text NOT NULL DEFAULT 'USD'
                     CONSTRAINT institution_currency_check CHECK (currency ~ '^[A-Z]{3}$')`);
    await q.query(`
      CREATE TABLE bursar_export_batch (
        seq bigserial PRIMARY KEY,
        institution_id uuid NOT NULL REFERENCES institution(id),
        batch_id text NOT NULL,
        filter jsonb NOT NULL,
        currency text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT bursar_export_batch_id_key UNIQUE (institution_id, batch_id)
      )`);
    await q.query(`CREATE INDEX bursar_export_batch_institution_idx ON bursar_export_batch (institution_id, seq)`);
    await q.query(`
      CREATE TABLE bursar_export_line (
        batch_seq bigint NOT NULL REFERENCES bursar_export_batch(seq) ON DELETE CASCADE,
        line_no integer NOT NULL,
        institution_id uuid NOT NULL REFERENCES institution(id),
        fine_id uuid NOT NULL,
        user_id uuid NOT NULL,
        fee_type text NOT NULL,
        owner_library_id uuid REFERENCES library(id),
        amount numeric(14,2) NOT NULL,
        fine_created_at timestamptz NOT NULL,
        PRIMARY KEY (batch_seq, line_no)
      )`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE bursar_export_line`);
    await q.query(`DROP TABLE bursar_export_batch`);
    await q.query(`ALTER TABLE institution DROP COLUMN currency`);
  }
}
