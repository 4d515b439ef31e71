import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A user or API key holds a given role at a given scope once: the database,
 * not only the service, refuses a second identical assignment, so two
 * concurrent assignRole calls cannot both insert it.
 */
export class UniqueRoleAssignments1764316800000 implements MigrationInterface {
  name = 'UniqueRoleAssignments1764316800000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNIQUE INDEX role_assignment_user_role_uq ON role_assignment (user_id, role_type, scope_type, scope_library_id, scope_desk_id)
                   NULLS NOT DISTINCT WHERE user_id IS NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX role_assignment_api_key_role_uq ON role_assignment (api_key_id, role_type, scope_type, scope_library_id, scope_desk_id)
                   NULLS NOT DISTINCT WHERE api_key_id IS NOT NULL`);
    await q.query(`CREATE INDEX role_assignment_rule_profile_idx ON role_assignment_rule (profile_id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX role_assignment_rule_profile_idx`);
    await q.query(`DROP INDEX role_assignment_api_key_role_uq`);
    await q.query(`DROP INDEX role_assignment_user_role_uq`);
  }
}
