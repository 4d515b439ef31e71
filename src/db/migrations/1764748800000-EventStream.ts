import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 11: subscriptions read the outbox.
 *
 * - `event_outbox.xid`: the writing transaction's id. Outbox ids come from a
 *   sequence and transactions commit out of id order, so a reader taking
 *   `id > last` could pass over an id whose transaction commits a moment
 *   later. Events are delivered in (xid, id) order and only once their xid is
 *   below the oldest transaction still running (`pg_current_snapshot()`'s
 *   xmin): no event can then appear before them any more.
 * - `family` and `user_id`, derived from the event: what subscriptions and
 *   the `events` query filter on, computed once where the row is written.
 * - `event_retention`: how far events have been pruned, so a cursor from
 *   before that point is refused (CURSOR_EXPIRED) instead of silently
 *   skipping what was pruned.
 * - A trigger sends `NOTIFY carrel_events` (no payload: the rows say the rest) when the
 *   writing transaction commits (PostgreSQL delivers notifications at commit
 *   and folds repeats of one payload): every Carrel instance wakes and reads
 *   the new rows once.
 */
export class EventStream1764748800000 implements MigrationInterface {
  name = 'EventStream1764748800000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE event_outbox ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id()`);
    await q.query(`
      ALTER TABLE event_outbox ADD COLUMN family text NOT NULL GENERATED ALWAYS AS (
        CASE
          WHEN aggregate_type = 'FINE' THEN 'FINE'
          WHEN aggregate_type IN ('ROLE_PROFILE', 'ROLE_ASSIGNMENT_RULE') THEN 'ROLE'
          WHEN aggregate_type = 'API_KEY' THEN 'API_KEY'
          WHEN aggregate_type = 'INSTITUTION' THEN 'INSTITUTION'
          WHEN event_type IN ('ROLE_ASSIGNED', 'ROLE_REMOVED', 'ROLE_ACTIVATED', 'ROLE_DEACTIVATED') THEN 'ROLE'
          WHEN event_type LIKE 'BLOCK\\_%' THEN 'BLOCK'
          WHEN event_type LIKE 'NOTE\\_%' THEN 'NOTE'
          WHEN event_type LIKE 'STATISTIC\\_%' THEN 'STATISTIC'
          ELSE 'USER'
        END) STORED`);
    await q.query(`
      ALTER TABLE event_outbox ADD COLUMN user_id uuid GENERATED ALWAYS AS (
        CASE
          WHEN aggregate_type = 'USER' THEN aggregate_id
          WHEN aggregate_type = 'FINE' THEN (payload ->> 'userId')::uuid
        END) STORED`);
    await q.query(`DROP INDEX event_outbox_institution_idx`);
    await q.query(`CREATE INDEX event_outbox_position_idx ON event_outbox (xid, id)`);
    await q.query(`CREATE INDEX event_outbox_institution_idx ON event_outbox (institution_id, xid, id)`);
    await q.query(`CREATE INDEX event_outbox_user_idx ON event_outbox (user_id, xid, id) WHERE user_id IS NOT NULL`);
    await q.query(`
      CREATE TABLE event_retention (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        pruned_xid xid8 NOT NULL,
        pruned_id bigint NOT NULL
      )`);
    await q.query(`INSERT INTO event_retention (pruned_xid, pruned_id) VALUES ('0', 0)`);
    await q.query(`
      CREATE FUNCTION carrel_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('carrel_events', '');
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER event_outbox_notify AFTER INSERT ON event_outbox
                   FOR EACH STATEMENT EXECUTE FUNCTION carrel_event_notify()`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER event_outbox_notify ON event_outbox`);
    await q.query(`DROP FUNCTION carrel_event_notify()`);
    await q.query(`DROP TABLE event_retention`);
    await q.query(`DROP INDEX event_outbox_user_idx`);
    await q.query(`DROP INDEX event_outbox_position_idx`);
    await q.query(`DROP INDEX event_outbox_institution_idx`);
    await q.query(`ALTER TABLE event_outbox DROP COLUMN user_id, DROP COLUMN family, DROP COLUMN xid`);
    await q.query(`CREATE INDEX event_outbox_institution_idx ON event_outbox (institution_id, id)`);
  }
}
