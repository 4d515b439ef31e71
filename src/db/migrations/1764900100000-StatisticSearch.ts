import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 13, item 5: the users list filters by statistic category (and type),
 * R6.3. A category most users lack is found from this index (the users who
 * have it, read without the table: owner and user come with the index),
 * a common one per user through user_statistic_user_idx; the planner picks.
 * The owner is in the index because library independence (R5.2) filters
 * on it in the same statement.
 */
export class StatisticSearch1764900100000 implements MigrationInterface {
  name = 'StatisticSearch1764900100000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX user_statistic_category_idx ON user_statistic (institution_id, category, category_type) INCLUDE (user_id, owner_library_id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX user_statistic_category_idx`);
  }
}
