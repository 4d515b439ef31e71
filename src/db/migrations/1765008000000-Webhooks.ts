import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 13 item 6: signed webhooks for partners that cannot hold a socket.
 *
 * - `webhook`: a registered URL, the secret it is signed with (kept as given:
 *   an HMAC needs the key itself, a hash of it would be useless), which events
 *   it wants, and its delivery state: the position of the last event it
 *   acknowledged (`cursor_xid`, `cursor_id`, the stream order of
 *   event-position.ts), the failing head event's attempts and next try, and a
 *   lease (`lease_owner`, `lease_until`) so that one instance at a time
 *   delivers it.
 * - Its roles live in `role_assignment` like an API key's, under the same
 *   rules (in force, scoped, unique per holder): a role has exactly one holder.
 * - `webhook_delivery`: one row per attempt, the log the API shows.
 */
export class Webhooks1765008000000 implements MigrationInterface {
  name = 'Webhooks1765008000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        url text NOT NULL,
        description text,
        secret text NOT NULL,
        event_types text[] NOT NULL DEFAULT '{}',
        families text[] NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DISABLED')),
        disabled_reason text,
        disabled_at timestamptz,
        cursor_xid xid8 NOT NULL,
        cursor_id bigint NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        failing_since timestamptz,
        next_attempt_at timestamptz,
        last_delivery_at timestamptz,
        last_error text,
        lease_owner text,
        lease_until timestamptz,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX webhook_institution_idx ON webhook (institution_id, created_at)`);
    // What the delivery worker looks for on every wake: the active webhooks, soonest due first.
    await q.query(`CREATE INDEX webhook_due_idx ON webhook (next_attempt_at NULLS FIRST) WHERE status = 'ACTIVE'`);

    await q.query(`ALTER TABLE role_assignment ADD COLUMN webhook_id uuid REFERENCES webhook(id) ON DELETE CASCADE`);
    await q.query(`ALTER TABLE role_assignment DROP CONSTRAINT role_assignment_one_holder`);
    await q.query(`ALTER TABLE role_assignment ADD CONSTRAINT role_assignment_one_holder CHECK (num_nonnulls(user_id, api_key_id, webhook_id) = 1)`);
    await q.query(`CREATE UNIQUE INDEX role_assignment_webhook_role_uq ON role_assignment (webhook_id, role_type, scope_type, scope_library_id, scope_desk_id)
                   NULLS NOT DISTINCT WHERE webhook_id IS NOT NULL`);

    await q.query(`
      CREATE TABLE webhook_delivery (
        id bigserial PRIMARY KEY,
        webhook_id uuid NOT NULL REFERENCES webhook(id) ON DELETE CASCADE,
        institution_id uuid NOT NULL REFERENCES institution(id),
        delivery_id uuid NOT NULL,
        event_xid xid8 NOT NULL,
        event_id bigint NOT NULL,
        event_type text NOT NULL,
        attempt integer NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        status_code integer,
        error text,
        duration_ms integer NOT NULL,
        succeeded boolean NOT NULL,
        next_attempt_at timestamptz
      )`);
    await q.query(`CREATE INDEX webhook_delivery_webhook_idx ON webhook_delivery (webhook_id, id)`);
    await q.query(`CREATE INDEX webhook_delivery_at_idx ON webhook_delivery (at)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_delivery`);
    await q.query(`DELETE FROM role_assignment WHERE webhook_id IS NOT NULL`);
    await q.query(`DROP INDEX role_assignment_webhook_role_uq`);
    await q.query(`ALTER TABLE role_assignment DROP CONSTRAINT role_assignment_one_holder`);
    await q.query(`ALTER TABLE role_assignment DROP COLUMN webhook_id`);
    await q.query(`ALTER TABLE role_assignment ADD CONSTRAINT role_assignment_one_holder CHECK ((user_id IS NULL) <> (api_key_id IS NULL))`);
    await q.query(`DROP TABLE webhook`);
  }
}
