import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 13, item 1: partner systems check users' passwords (authenticateUser).
 * Their attempts are recorded in login_attempt, limited and locked like
 * logins, but they are not staff logins: the staff login report (R11.1) must
 * neither list nor count them, nor take a partner's check of a staff user's
 * password for that user's last login. `channel` tells them apart and
 * `requested_by` keeps the operator that asked (its label: `api-key:<name>`
 * or a staff user's primary identifier); only partner attempts have one.
 *
 * The report reads one channel's attempts of a period through
 * login_attempt_time_idx, rebuilt with the channel before the time, so a busy
 * discovery layer's checks never lengthen the scan of staff logins (and the
 * partner channel is read as cheaply). Adding a column with a constant default
 * rewrites no rows.
 */
export class PartnerAuthentication1764900000000 implements MigrationInterface {
  name = 'PartnerAuthentication1764900000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE login_attempt
      ADD COLUMN channel text NOT NULL DEFAULT 'LOGIN' CONSTRAINT login_attempt_channel_check CHECK (channel IN ('LOGIN', 'PARTNER')),
      ADD COLUMN requested_by text,
      ADD CONSTRAINT login_attempt_partner_requester_check CHECK ((channel = 'PARTNER') = (requested_by IS NOT NULL))`);
    await q.query(`DROP INDEX login_attempt_time_idx`);
    await q.query(`CREATE INDEX login_attempt_time_idx ON login_attempt (institution_id, channel, attempted_at)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX login_attempt_time_idx`);
    await q.query(`DELETE FROM login_attempt WHERE channel = 'PARTNER'`);
    await q.query(`ALTER TABLE login_attempt DROP COLUMN requested_by, DROP COLUMN channel`);
    await q.query(`CREATE INDEX login_attempt_time_idx ON login_attempt (institution_id, attempted_at)`);
  }
}
