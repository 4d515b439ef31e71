import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 9 findings 7, 10, 11.
 *
 * login_throttle is the store of rate-limiter-flexible's PostgreSQL limiter
 * (src/auth/throttle-store.ts): failure counts, waits and lockouts, shared by
 * every instance of the server. Its columns are the ones the library reads
 * and writes (key, points, expire in epoch ms); the library is told the table
 * exists and never creates it. The expire index serves its periodic cleanup.
 *
 * app_user.sessions_valid_after is the one thing that ends a user's sessions:
 * a token is accepted only while it carries the value the column had when
 * the token was signed (src/auth/sessions.repository.ts). It replaces the
 * comparison with password_changed_at, so it starts from that value: tokens
 * signed before this migration keep working until the next bump.
 */
export class LoginThrottling1764576100000 implements MigrationInterface {
  name = 'LoginThrottling1764576100000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE login_throttle (key varchar(255) PRIMARY KEY, points integer NOT NULL DEFAULT 0, expire bigint)`);
    await q.query(`CREATE INDEX login_throttle_expire_idx ON login_throttle (expire)`);
    await q.query(`ALTER TABLE app_user ADD COLUMN sessions_valid_after timestamptz`);
    await q.query(`UPDATE app_user SET sessions_valid_after = password_changed_at WHERE password_changed_at IS NOT NULL`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE app_user DROP COLUMN sessions_valid_after`);
    await q.query(`DROP TABLE login_throttle`);
  }
}
