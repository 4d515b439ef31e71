import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Changes to role profiles and role assignment rules decide who gets which
 * powers, so they are recorded like changes of a user: history_entry gains a
 * subject (USER, ROLE_PROFILE, ROLE_ASSIGNMENT_RULE). Rows about a user keep
 * user_id; rows about a profile or rule have none and name their subject.
 */
export class ConfigurationHistory1764489600000 implements MigrationInterface {
  name = 'ConfigurationHistory1764489600000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE history_entry ALTER COLUMN user_id DROP NOT NULL`);
    await q.query(`ALTER TABLE history_entry ADD COLUMN subject_type text NOT NULL DEFAULT 'USER', ADD COLUMN subject_id uuid`);
    await q.query(`ALTER TABLE history_entry ADD CONSTRAINT history_entry_subject_check
                     CHECK (subject_type IN ('USER', 'ROLE_PROFILE', 'ROLE_ASSIGNMENT_RULE')
                            AND (subject_type = 'USER') = (user_id IS NOT NULL)
                            AND (subject_type = 'USER' OR subject_id IS NOT NULL))`);
    await q.query(`CREATE INDEX history_entry_configuration_idx ON history_entry (institution_id, id DESC) WHERE subject_type <> 'USER'`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM history_entry WHERE subject_type <> 'USER'`);
    await q.query(`DROP INDEX history_entry_configuration_idx`);
    await q.query(`ALTER TABLE history_entry DROP CONSTRAINT history_entry_subject_check`);
    await q.query(`ALTER TABLE history_entry DROP COLUMN subject_id, DROP COLUMN subject_type`);
    await q.query(`ALTER TABLE history_entry ALTER COLUMN user_id SET NOT NULL`);
  }
}
