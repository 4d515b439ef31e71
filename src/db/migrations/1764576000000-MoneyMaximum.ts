import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 9 finding 4: money had no upper bound. Each institution sets the
 * largest amount one fine or fee may be charged (default 10,000.00), within
 * what the API accepts at all (999,999,999.99, the Decimal scalar's maximum,
 * well inside numeric(14,2)). The debt limit, the other amount an institution
 * sets, gets the same ceiling.
 */
export class MoneyMaximum1764576000000 implements MigrationInterface {
  name = 'MoneyMaximum1764576000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE institution
                     ADD COLUMN maximum_amount numeric(14,2) NOT NULL DEFAULT 10000.00
                       CONSTRAINT institution_maximum_amount_check CHECK (maximum_amount > 0 AND maximum_amount <= 999999999.99)`);
    await q.query(`ALTER TABLE institution ADD CONSTRAINT institution_debt_limit_maximum_check CHECK (debt_limit <= 999999999.99)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE institution DROP CONSTRAINT institution_debt_limit_maximum_check`);
    await q.query(`ALTER TABLE institution DROP COLUMN maximum_amount`);
  }
}
