import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The users list sorts by name, primary identifier or expiry date, paging by
 * keyset on (sort key, id). These expression indexes match the sort keys
 * exactly (case-insensitive identifiers, missing expiry dates last) so every
 * page is an index range scan.
 */
export class UserListSortIndexes1764403200000 implements MigrationInterface {
  name = 'UserListSortIndexes1764403200000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX app_user_primary_sort_idx`);
    await q.query(`CREATE INDEX app_user_identifier_sort_idx ON app_user (institution_id, (coalesce(lower(primary_identifier), '')), id)`);
    await q.query(`CREATE INDEX app_user_expiry_sort_idx ON app_user (institution_id, (coalesce(expiry_date, 'infinity'::date)), id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX app_user_expiry_sort_idx`);
    await q.query(`DROP INDEX app_user_identifier_sort_idx`);
    await q.query(`CREATE INDEX app_user_primary_sort_idx ON app_user (institution_id, primary_identifier, id)`);
  }
}
