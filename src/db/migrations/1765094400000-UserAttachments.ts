import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 13 items 7 and 8.
 * - The photo server settings (user pictures) are three columns of the institution, set together or not at all:
 *   null everywhere means pictures are off. The service validates them; the CHECK keeps a half-set row out.
 * - user_attachment holds the files staff attach to a user, in PostgreSQL so that a file exists exactly when the
 *   history entry and event of its upload committed. ON DELETE CASCADE removes them with the user; a purge deletes
 *   them with the other personal items.
 */
export class UserAttachments1765094400000 implements MigrationInterface {
  name = 'UserAttachments1765094400000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE institution
        ADD COLUMN photo_server_url text CHECK (length(photo_server_url) <= 2000),
        ADD COLUMN photo_identifier_type text CHECK (length(photo_identifier_type) <= 100),
        ADD COLUMN photo_suffix text CHECK (photo_suffix ~ '^[A-Za-z0-9]{1,10}$'),
        ADD CONSTRAINT institution_photo_settings_check
          CHECK ((photo_server_url IS NULL) = (photo_identifier_type IS NULL) AND (photo_server_url IS NULL) = (photo_suffix IS NULL))`);
    await q.query(`
      CREATE TABLE user_attachment (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
        file_name text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
        media_type text NOT NULL,
        size_bytes integer NOT NULL CHECK (size_bytes > 0),
        content bytea NOT NULL,
        sha256 text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (octet_length(content) = size_bytes)
      )`);
    // Files are big and rarely read: keep them out of the table's main heap so a list never touches them.
    await q.query(`ALTER TABLE user_attachment ALTER COLUMN content SET STORAGE EXTERNAL`);
    await q.query(`CREATE INDEX user_attachment_user_idx ON user_attachment (user_id, created_at, id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE user_attachment`);
    await q.query(`ALTER TABLE institution DROP CONSTRAINT institution_photo_settings_check,
                     DROP COLUMN photo_server_url, DROP COLUMN photo_identifier_type, DROP COLUMN photo_suffix`);
  }
}
