import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 15 item 5: several instances on one database. `job_lease` holds one row per named job (event pruning, each
 * delta fold, the webhook delivery log's pruning, each institution's purge job): an instance runs the job only while
 * its row names it as `owner` and `lease_until` is ahead, renewing it as it runs (src/db/job-lease.ts). A released
 * lease keeps its row, `lease_until` set to when the run ended: the table also says who ran each job last.
 */
export class JobLeases1765267200000 implements MigrationInterface {
  name = 'JobLeases1765267200000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_lease (
        name text PRIMARY KEY,
        owner text NOT NULL,
        taken_at timestamptz NOT NULL,
        lease_until timestamptz NOT NULL
      )`);
    await q.query(`COMMENT ON TABLE job_lease IS 'Which Carrel instance (host:pid:random) runs each periodic job; held while lease_until > now()'`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE job_lease`);
  }
}
