import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The whole data model in one migration, written as SQL so that constraints,
 * expression indexes and triggers are visible in one place. Every table that
 * holds an institution's data carries `institution_id`; every index starts
 * with it because every query is scoped to the operator's institution.
 * Never edit this file after it has landed: add a new migration instead.
 */
export class InitialSchema1764230400000 implements MigrationInterface {
  name = 'InitialSchema1764230400000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);

    await q.query(`
      CREATE TABLE institution (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        code text NOT NULL UNIQUE,
        name text NOT NULL,
        waiving_fines_fees_limit integer NOT NULL DEFAULT 100 CHECK (waiving_fines_fees_limit BETWEEN 1 AND 100),
        primary_identifier_regex text,
        email_regex text,
        phone_regex text,
        postal_code_regex text,
        email_required boolean NOT NULL DEFAULT true,
        library_independence boolean NOT NULL DEFAULT true,
        named_user_allotment integer NOT NULL DEFAULT 0 CHECK (named_user_allotment >= 0),
        debt_limit numeric(14,2) NOT NULL DEFAULT 0 CHECK (debt_limit >= 0),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE library (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        code text NOT NULL,
        name text NOT NULL,
        UNIQUE (institution_id, code)
      )`);

    await q.query(`
      CREATE TABLE circulation_desk (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        library_id uuid NOT NULL REFERENCES library(id),
        code text NOT NULL,
        name text NOT NULL,
        UNIQUE (library_id, code)
      )`);
    await q.query(`CREATE INDEX circulation_desk_institution_idx ON circulation_desk (institution_id)`);

    // Configured code lists (user groups, job categories, campuses, block
    // types, waive reasons, statistic categories, note types): one table,
    // because they share shape and lifecycle.
    await q.query(`
      CREATE TABLE code_value (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        kind text NOT NULL CHECK (kind IN ('USER_GROUP','JOB_CATEGORY','CAMPUS','BLOCK_TYPE','WAIVE_REASON','STATISTIC_CATEGORY','NOTE_TYPE','IDENTIFIER_TYPE')),
        code text NOT NULL,
        description text NOT NULL,
        UNIQUE (institution_id, kind, code)
      )`);

    await q.query(`
      CREATE TABLE fine_fee_type (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        code text NOT NULL,
        name text NOT NULL,
        allows_library_owner boolean NOT NULL DEFAULT false,
        vat_rate numeric(5,2) NOT NULL DEFAULT 0 CHECK (vat_rate >= 0 AND vat_rate <= 100),
        is_credit boolean NOT NULL DEFAULT false,
        UNIQUE (institution_id, code)
      )`);

    await q.query(`
      CREATE TABLE app_user (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        record_type text NOT NULL CHECK (record_type IN ('PUBLIC','STAFF','CONTACT')),
        account_type text NOT NULL CHECK (account_type IN ('INTERNAL','EXTERNAL','INTERNAL_WITH_EXTERNAL_AUTH')),
        external_owner text,
        primary_identifier text,
        first_name text,
        middle_name text,
        last_name text,
        preferred_first_name text,
        preferred_middle_name text,
        preferred_last_name text,
        title text,
        pin_number text CHECK (pin_number ~ '^[0-9]{4}$'),
        job_category text,
        job_description text,
        gender text CHECK (gender IN ('MALE','FEMALE','OTHER','NONE')),
        user_group text,
        campus text,
        website_url text,
        preferred_language text,
        status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE','INACTIVE')),
        status_date timestamptz NOT NULL DEFAULT now(),
        birth_date date,
        expiry_date date,
        purge_date date,
        last_patron_activity_date date,
        resource_sharing_libraries text[] NOT NULL DEFAULT '{}',
        purchase_request_libraries text[] NOT NULL DEFAULT '{}',
        cataloger_level text,
        patron_letters text[] NOT NULL DEFAULT '{}',
        password_hash text,
        password_changed_at timestamptz,
        force_password_change boolean NOT NULL DEFAULT false,
        mfa_enabled boolean NOT NULL DEFAULT false,
        is_restricted boolean NOT NULL DEFAULT false,
        cannot_edit_restricted_users boolean NOT NULL DEFAULT false,
        kept_fields text[] NOT NULL DEFAULT '{}',
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_by text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        sort_name text GENERATED ALWAYS AS (
          lower(coalesce(preferred_last_name, last_name, '') || ' ' || coalesce(preferred_first_name, first_name, ''))
        ) STORED,
        -- concat_ws is only STABLE, and generated columns need IMMUTABLE expressions.
        search_text text GENERATED ALWAYS AS (
          lower(substr(coalesce(' ' || first_name, '') || coalesce(' ' || middle_name, '') || coalesce(' ' || last_name, '') || coalesce(' ' || preferred_first_name, '') || coalesce(' ' || preferred_middle_name, '') || coalesce(' ' || preferred_last_name, ''), 2))
        ) STORED,
        CONSTRAINT app_user_names_required CHECK (record_type = 'CONTACT' OR (first_name IS NOT NULL AND last_name IS NOT NULL)),
        CONSTRAINT app_user_primary_identifier_required CHECK (record_type = 'CONTACT' OR primary_identifier IS NOT NULL),
        CONSTRAINT app_user_contact_has_no_password CHECK (record_type <> 'CONTACT' OR password_hash IS NULL)
      )`);
    // R2.1 / R2.4: primary identifiers are unique per institution, case-insensitively.
    await q.query(`CREATE UNIQUE INDEX app_user_primary_identifier_uq ON app_user (institution_id, lower(primary_identifier))`);
    await q.query(`CREATE INDEX app_user_sort_name_idx ON app_user (institution_id, sort_name, id)`);
    await q.query(`CREATE INDEX app_user_primary_sort_idx ON app_user (institution_id, primary_identifier, id)`);
    await q.query(`CREATE INDEX app_user_expiry_idx ON app_user (institution_id, expiry_date, id)`);
    await q.query(`CREATE INDEX app_user_filters_idx ON app_user (institution_id, record_type, account_type, status)`);
    await q.query(`CREATE INDEX app_user_user_group_idx ON app_user (institution_id, user_group)`);
    await q.query(`CREATE INDEX app_user_job_category_idx ON app_user (institution_id, job_category)`);
    await q.query(`CREATE INDEX app_user_campus_idx ON app_user (institution_id, campus)`);
    await q.query(`CREATE INDEX app_user_purge_date_idx ON app_user (institution_id, purge_date) WHERE purge_date IS NOT NULL`);
    await q.query(`CREATE INDEX app_user_duplicate_idx ON app_user (institution_id, lower(first_name), lower(last_name), birth_date)`);
    await q.query(`CREATE INDEX app_user_search_trgm_idx ON app_user USING gin (search_text gin_trgm_ops)`);

    await q.query(`
      CREATE TABLE user_identifier (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
        id_type text NOT NULL,
        value text NOT NULL CHECK (value <> ''),
        note text,
        is_external boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // R2.2 / R2.4: additional identifier values are unique, case-sensitively.
    await q.query(`CREATE UNIQUE INDEX user_identifier_value_uq ON user_identifier (institution_id, value)`);
    await q.query(`CREATE INDEX user_identifier_user_idx ON user_identifier (user_id)`);
    await q.query(`CREATE INDEX user_identifier_lower_value_idx ON user_identifier (institution_id, lower(value))`);

    // R2.2: a value may not be both somebody's primary identifier and an
    // additional identifier. Two tables cannot share a unique index, so a
    // trigger checks across them; the advisory lock on the value makes two
    // concurrent inserts of the same value queue instead of both passing.
    await q.query(`
      CREATE FUNCTION carrel_identifier_clash() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        v text;
      BEGIN
        IF TG_TABLE_NAME = 'app_user' THEN
          v := NEW.primary_identifier;
        ELSE
          v := NEW.value;
        END IF;
        IF v IS NULL THEN
          RETURN NEW;
        END IF;
        PERFORM pg_advisory_xact_lock(hashtextextended(NEW.institution_id::text || ':' || lower(v), 0));
        IF TG_TABLE_NAME = 'app_user' THEN
          IF EXISTS (SELECT 1 FROM user_identifier i
                     WHERE i.institution_id = NEW.institution_id AND lower(i.value) = lower(v)) THEN
            RAISE EXCEPTION 'identifier % is already in use', v
              USING ERRCODE = 'unique_violation', CONSTRAINT = 'identifier_value_clash';
          END IF;
        ELSE
          IF EXISTS (SELECT 1 FROM app_user u
                     WHERE u.institution_id = NEW.institution_id AND lower(u.primary_identifier) = lower(v)) THEN
            RAISE EXCEPTION 'identifier % is already in use', v
              USING ERRCODE = 'unique_violation', CONSTRAINT = 'identifier_value_clash';
          END IF;
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER app_user_identifier_clash BEFORE INSERT OR UPDATE OF primary_identifier ON app_user
                   FOR EACH ROW EXECUTE FUNCTION carrel_identifier_clash()`);
    await q.query(`CREATE TRIGGER user_identifier_clash BEFORE INSERT OR UPDATE OF value ON user_identifier
                   FOR EACH ROW EXECUTE FUNCTION carrel_identifier_clash()`);

    await q.query(`
      CREATE TABLE user_email (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
        address text NOT NULL,
        email_type text NOT NULL,
        description text,
        is_preferred boolean NOT NULL DEFAULT false,
        start_date date,
        end_date date,
        is_external boolean NOT NULL DEFAULT false
      )`);
    await q.query(`CREATE INDEX user_email_user_idx ON user_email (user_id)`);
    await q.query(`CREATE INDEX user_email_address_idx ON user_email (institution_id, lower(address))`);
    await q.query(`CREATE UNIQUE INDEX user_email_one_preferred_uq ON user_email (user_id) WHERE is_preferred`);

    await q.query(`
      CREATE TABLE user_address (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
        address_type text NOT NULL,
        line1 text NOT NULL,
        line2 text,
        line3 text,
        city text,
        state_province text,
        postal_code text,
        country text,
        note text,
        is_preferred boolean NOT NULL DEFAULT false,
        start_date date,
        end_date date,
        is_external boolean NOT NULL DEFAULT false
      )`);
    await q.query(`CREATE INDEX user_address_user_idx ON user_address (user_id)`);
    await q.query(`CREATE UNIQUE INDEX user_address_one_preferred_uq ON user_address (user_id) WHERE is_preferred`);

    await q.query(`
      CREATE TABLE user_phone (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
        phone_number text NOT NULL,
        phone_type text NOT NULL,
        is_preferred boolean NOT NULL DEFAULT false,
        start_date date,
        end_date date,
        is_external boolean NOT NULL DEFAULT false
      )`);
    await q.query(`CREATE INDEX user_phone_user_idx ON user_phone (user_id)`);
    await q.query(`CREATE UNIQUE INDEX user_phone_one_preferred_uq ON user_phone (user_id) WHERE is_preferred`);

    await q.query(`
      CREATE TABLE api_key (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        name text NOT NULL,
        key_prefix text NOT NULL UNIQUE,
        secret_hash text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        revoked_at timestamptz,
        last_used_at timestamptz,
        UNIQUE (institution_id, name)
      )`);

    // A role is held either by a user or by a partner system's API key, so
    // that the policy treats both the same way (R11.2).
    await q.query(`
      CREATE TABLE role_assignment (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        user_id uuid REFERENCES app_user(id) ON DELETE CASCADE,
        api_key_id uuid REFERENCES api_key(id) ON DELETE CASCADE,
        role_type text NOT NULL,
        scope_type text CHECK (scope_type IN ('INSTITUTION','LIBRARY','CIRCULATION_DESK')),
        scope_library_id uuid REFERENCES library(id),
        scope_desk_id uuid REFERENCES circulation_desk(id),
        is_active boolean NOT NULL DEFAULT true,
        expiry_date date,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT role_assignment_one_holder CHECK ((user_id IS NULL) <> (api_key_id IS NULL)),
        CONSTRAINT role_assignment_scope_shape CHECK (
          (scope_type IS NULL AND scope_library_id IS NULL AND scope_desk_id IS NULL AND NOT is_active)
          OR (scope_type = 'INSTITUTION' AND scope_library_id IS NULL AND scope_desk_id IS NULL)
          OR (scope_type = 'LIBRARY' AND scope_library_id IS NOT NULL AND scope_desk_id IS NULL)
          OR (scope_type = 'CIRCULATION_DESK' AND scope_library_id IS NOT NULL AND scope_desk_id IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX role_assignment_user_idx ON role_assignment (user_id) WHERE user_id IS NOT NULL`);
    await q.query(`CREATE INDEX role_assignment_api_key_idx ON role_assignment (api_key_id) WHERE api_key_id IS NOT NULL`);
    await q.query(`CREATE INDEX role_assignment_role_idx ON role_assignment (institution_id, role_type, user_id)`);

    await q.query(`
      CREATE TABLE role_profile (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        name text NOT NULL,
        description text,
        UNIQUE (institution_id, name)
      )`);
    await q.query(`
      CREATE TABLE role_profile_entry (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        profile_id uuid NOT NULL REFERENCES role_profile(id) ON DELETE CASCADE,
        role_type text NOT NULL,
        scope_type text CHECK (scope_type IN ('INSTITUTION','LIBRARY','CIRCULATION_DESK')),
        scope_library_id uuid REFERENCES library(id),
        scope_desk_id uuid REFERENCES circulation_desk(id)
      )`);
    await q.query(`CREATE INDEX role_profile_entry_profile_idx ON role_profile_entry (profile_id)`);
    await q.query(`
      CREATE TABLE role_assignment_rule (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        job_category text,
        user_group text,
        profile_id uuid NOT NULL REFERENCES role_profile(id) ON DELETE CASCADE,
        CONSTRAINT role_assignment_rule_has_condition CHECK (job_category IS NOT NULL OR user_group IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX role_assignment_rule_lookup_idx ON role_assignment_rule (institution_id, job_category, user_group)`);

    // Owned items (R5.1): owner_library_id NULL means the institution owns it.
    await q.query(`
      CREATE TABLE fine_fee (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
        fine_type text NOT NULL,
        owner_library_id uuid REFERENCES library(id),
        original_amount numeric(14,2) NOT NULL,
        remaining_amount numeric(14,2) NOT NULL,
        vat_amount numeric(14,2) NOT NULL DEFAULT 0,
        status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE','IN_DISPUTE','CLOSED','TRANSFERRED')),
        status_date timestamptz NOT NULL DEFAULT now(),
        comment text,
        item_barcode text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT fine_fee_balance_within_amount CHECK (
          (original_amount >= 0 AND remaining_amount BETWEEN 0 AND original_amount)
          OR (original_amount < 0 AND remaining_amount BETWEEN original_amount AND 0))
      )`);
    await q.query(`CREATE INDEX fine_fee_user_idx ON fine_fee (user_id, status)`);
    await q.query(`CREATE INDEX fine_fee_owner_idx ON fine_fee (institution_id, owner_library_id, status)`);
    await q.query(`
      CREATE TABLE fine_fee_action (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        fine_id uuid NOT NULL REFERENCES fine_fee(id) ON DELETE CASCADE,
        action_type text NOT NULL CHECK (action_type IN ('CREATE','WAIVE','PAY','DISPUTE','RESTORE','TRANSFER')),
        amount numeric(14,2) NOT NULL DEFAULT 0,
        reason text,
        payment_method text CHECK (payment_method IN ('CASH','CREDIT_CARD','ONLINE')),
        comment text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX fine_fee_action_fine_idx ON fine_fee_action (fine_id, created_at)`);

    await q.query(`
      CREATE TABLE user_block (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
        block_type text NOT NULL,
        owner_library_id uuid REFERENCES library(id),
        note text,
        expiry_date timestamptz,
        is_external boolean NOT NULL DEFAULT false,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX user_block_user_idx ON user_block (user_id, expiry_date)`);
    await q.query(`CREATE INDEX user_block_owner_idx ON user_block (institution_id, owner_library_id)`);

    await q.query(`
      CREATE TABLE user_note (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
        note_type text NOT NULL DEFAULT 'GENERAL',
        text text NOT NULL,
        owner_library_id uuid REFERENCES library(id),
        popup boolean NOT NULL DEFAULT false,
        user_viewable boolean NOT NULL DEFAULT false,
        is_external boolean NOT NULL DEFAULT false,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX user_note_user_idx ON user_note (user_id)`);

    await q.query(`
      CREATE TABLE user_statistic (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
        category_type text NOT NULL,
        category text NOT NULL,
        note text,
        owner_library_id uuid REFERENCES library(id),
        is_external boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX user_statistic_user_idx ON user_statistic (user_id)`);

    await q.query(`
      CREATE TABLE proxy_link (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        proxy_user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
        sponsor_user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
        is_fulfillment boolean NOT NULL DEFAULT false,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (proxy_user_id, sponsor_user_id),
        CONSTRAINT proxy_link_not_self CHECK (proxy_user_id <> sponsor_user_id)
      )`);
    await q.query(`CREATE INDEX proxy_link_sponsor_idx ON proxy_link (sponsor_user_id)`);

    await q.query(`
      CREATE TABLE loan (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        institution_id uuid NOT NULL REFERENCES institution(id),
        user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
        library_id uuid REFERENCES library(id),
        item_barcode text NOT NULL,
        loan_date timestamptz NOT NULL DEFAULT now(),
        due_date timestamptz NOT NULL,
        returned_at timestamptz
      )`);
    await q.query(`CREATE INDEX loan_open_idx ON loan (user_id) WHERE returned_at IS NULL`);

    // History rows outlive a deleted user (R10.3 keeps statistical data), so
    // no foreign key on user_id.
    await q.query(`
      CREATE TABLE history_entry (
        id bigserial PRIMARY KEY,
        institution_id uuid NOT NULL REFERENCES institution(id),
        user_id uuid NOT NULL,
        field text NOT NULL,
        old_value text,
        new_value text,
        owner_library_id uuid REFERENCES library(id),
        changed_by text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX history_entry_user_idx ON history_entry (user_id, id DESC)`);

    // The outbox (R11.3): written in the same transaction as the change; the
    // bigserial id is the resume position for subscribers.
    await q.query(`
      CREATE TABLE event_outbox (
        id bigserial PRIMARY KEY,
        institution_id uuid NOT NULL REFERENCES institution(id),
        event_type text NOT NULL,
        aggregate_type text NOT NULL,
        aggregate_id uuid NOT NULL,
        owner_library_id uuid REFERENCES library(id),
        payload jsonb NOT NULL DEFAULT '{}',
        actor text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX event_outbox_institution_idx ON event_outbox (institution_id, id)`);

    await q.query(`
      CREATE TABLE login_attempt (
        id bigserial PRIMARY KEY,
        institution_id uuid REFERENCES institution(id),
        user_id uuid REFERENCES app_user(id) ON DELETE SET NULL,
        identifier text NOT NULL,
        succeeded boolean NOT NULL,
        reason text,
        attempted_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX login_attempt_time_idx ON login_attempt (institution_id, attempted_at)`);
    await q.query(`CREATE INDEX login_attempt_user_idx ON login_attempt (user_id, attempted_at DESC)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'login_attempt', 'event_outbox', 'history_entry', 'loan', 'proxy_link', 'user_statistic', 'user_note',
      'user_block', 'fine_fee_action', 'fine_fee', 'role_assignment_rule', 'role_profile_entry', 'role_profile',
      'role_assignment', 'api_key', 'user_phone', 'user_address', 'user_email', 'user_identifier', 'app_user',
      'fine_fee_type', 'code_value', 'circulation_desk', 'library', 'institution',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
    await q.query(`DROP FUNCTION IF EXISTS carrel_identifier_clash()`);
  }
}
