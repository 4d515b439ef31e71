/**
 * Which role assignments give rights, in SQL: active (a role lacking a needed
 * scope is always saved inactive, R4.3), scoped, and not past its expiry date.
 * Authentication (users and API keys), the named-user count and the staff
 * login report all read roles through this one condition.
 */
export function roleInForceSql(alias: string): string {
  return `(${alias}.is_active AND ${alias}.scope_type IS NOT NULL AND (${alias}.expiry_date IS NULL OR ${alias}.expiry_date >= current_date))`;
}

/** The roles in force of `alias`, as the JSON array of OperatorRole that authentication reads. */
export function operatorRolesJsonSql(alias: string): string {
  return `coalesce(json_agg(json_build_object('roleType', ${alias}.role_type, 'scopeType', ${alias}.scope_type,
                                              'libraryId', ${alias}.scope_library_id, 'deskId', ${alias}.scope_desk_id))
                   FILTER (WHERE ${alias}.id IS NOT NULL), '[]')`;
}
