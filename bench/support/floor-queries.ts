import { NAME_SEARCH, QUERIES, ScenarioKey } from './queries';

/**
 * The floor's SQL: for each bench scenario, ONE statement that builds the whole GraphQL response in PostgreSQL, so the
 * server around it only parses the request and writes the text back. It reproduces Carrel's answer for the demo
 * institution's admin (institution-wide: the owner scope covers every library, so the R5.2 owner conditions keep
 * every row and are left out):
 * - displayName (src/users/user-fields.ts): preferred name else main name, per part, empty parts dropped, joined by
 *   one space; the primary identifier, else "(no name)", when no part is left. Purged users are filtered out, so
 *   the "Purged user" case never arises.
 * - identifiers by id; roles active first, then by role type and id; a role's scope only when it has a scope type,
 *   its library only when it names one (src/roles/role.repository.ts, role.resolvers.ts).
 * - blocks: the active ones (no expiry date, or one in the future), newest first then by id; hasActiveBlock: any.
 * - fineSummary: sums of remaining amounts by status with two decimals, as strings; exceedsDebtLimit against the
 *   institution's debt limit when it is above zero (src/fines/fine.repository.ts, src/common/scalars.ts).
 * - the users lists: not purged, the filter, the sort key then id, 50 rows; totalCount by count(*).
 * Rows are turned into JSON by row_to_json-style record conversion (compact, keys in the selection's order);
 * json_build_object only wraps the top levels.
 */

export interface FloorStatement {
  key: ScenarioKey;
  /** The GraphQL query text the floor answers with this statement. */
  query: string;
  /** The prepared statement's name (pg's `{ name, text, values }` prepares it once per connection). */
  name: string;
  text: string;
  /** $1 is always the institution id. */
  values(institutionId: string, variables: Record<string, unknown>): unknown[];
}

const DISPLAY_NAME = (u: string) => `coalesce(nullif(concat_ws(' ',
      nullif(coalesce(${u}.preferred_first_name, ${u}.first_name), ''),
      nullif(coalesce(${u}.preferred_middle_name, ${u}.middle_name), ''),
      nullif(coalesce(${u}.preferred_last_name, ${u}.last_name), '')), ''), ${u}.primary_identifier, '(no name)')`;

const IDENTIFIERS = (u: string) => `(SELECT coalesce(json_agg(x ORDER BY i.id), '[]')
      FROM user_identifier i CROSS JOIN LATERAL (SELECT i.id_type AS "type", i.value AS "value") x
     WHERE i.institution_id = $1 AND i.user_id = ${u}.id)`;

const ROLE_TYPES = (u: string) => `(SELECT coalesce(json_agg(x ORDER BY r.is_active DESC, r.role_type, r.id), '[]')
      FROM role_assignment r CROSS JOIN LATERAL (SELECT r.role_type AS "roleType") x
     WHERE r.institution_id = $1 AND r.user_id = ${u}.id)`;

const ROLES_WITH_SCOPE = (u: string) => `(SELECT coalesce(json_agg(x ORDER BY r.is_active DESC, r.role_type, r.id), '[]')
      FROM role_assignment r
      LEFT JOIN library l ON l.institution_id = $1 AND l.id = r.scope_library_id
      CROSS JOIN LATERAL (SELECT r.role_type AS "roleType",
        (SELECT s FROM (SELECT r.scope_type AS "type", (SELECT lib FROM (SELECT l.code AS "code") lib WHERE l.id IS NOT NULL) AS "library") s
          WHERE r.scope_type IS NOT NULL) AS "scope") x
     WHERE r.institution_id = $1 AND r.user_id = ${u}.id)`;

/** One page of users as `{"data":{"users":{"totalCount":N,"edges":[{"node":{...}}]}}}`. */
function listPage(where: string, order: string, totalCount: boolean): string {
  const page = `SELECT u.id, u.first_name, u.middle_name, u.last_name, u.preferred_first_name, u.preferred_middle_name,
           u.preferred_last_name, u.primary_identifier, u.user_group, u.expiry_date, ${order} AS sort_key
      FROM app_user u
     WHERE u.institution_id = $1 AND u.purged_at IS NULL AND ${where}
     ORDER BY ${order}, u.id
     LIMIT 50`;
  const edges = `(SELECT coalesce(json_agg(e ORDER BY p.sort_key, p.id), '[]')
      FROM (${page}) p
      CROSS JOIN (SELECT debt_limit FROM institution WHERE id = $1) inst
      LEFT JOIN LATERAL (
        SELECT coalesce(json_agg(x ORDER BY b.created_at DESC, b.id), '[]') AS blocks, count(*) > 0 AS active
          FROM user_block b CROSS JOIN LATERAL (SELECT b.block_type AS "type") x
         WHERE b.institution_id = $1 AND b.user_id = p.id AND (b.expiry_date IS NULL OR b.expiry_date > now())
      ) bl ON true
      CROSS JOIN LATERAL (SELECT n AS "node" FROM (SELECT
        p.id AS "id",
        ${DISPLAY_NAME('p')} AS "displayName",
        p.primary_identifier AS "primaryIdentifier",
        p.user_group AS "userGroup",
        p.expiry_date AS "expiryDate",
        ${IDENTIFIERS('p')} AS "identifiers",
        ${ROLES_WITH_SCOPE('p')} AS "roles",
        bl.blocks AS "blocks",
        bl.active AS "hasActiveBlock",
        (SELECT fs FROM (SELECT
            round(coalesce(sum(f.remaining_amount) FILTER (WHERE f.status = 'ACTIVE'), 0), 2)::text AS "activeBalance",
            round(coalesce(sum(f.remaining_amount) FILTER (WHERE f.status = 'IN_DISPUTE'), 0), 2)::text AS "disputedBalance",
            (inst.debt_limit > 0 AND coalesce(sum(f.remaining_amount) FILTER (WHERE f.status = 'ACTIVE'), 0) >= inst.debt_limit) AS "exceedsDebtLimit"
          FROM fine_fee f WHERE f.institution_id = $1 AND f.user_id = p.id) fs) AS "fineSummary"
      ) n) e)`;
  const count = `(SELECT count(*) FROM app_user u WHERE u.institution_id = $1 AND u.purged_at IS NULL AND ${where})`;
  const users = totalCount ? `json_build_object('totalCount', ${count}, 'edges', ${edges})` : `json_build_object('edges', ${edges})`;
  return `SELECT json_build_object('data', json_build_object('users', ${users}))::text`;
}

/** The lookup: Carrel trims the value, then matches it as a primary identifier (case-insensitively) or an additional one (exactly). */
const LOOKUP = `SELECT json_build_object('data', json_build_object('userByIdentifier', (SELECT n FROM (SELECT
      u.id AS "id",
      ${DISPLAY_NAME('u')} AS "displayName",
      ${IDENTIFIERS('u')} AS "identifiers",
      ${ROLE_TYPES('u')} AS "roles"
    FROM app_user u
   WHERE u.institution_id = $1 AND u.purged_at IS NULL
     AND u.id IN (SELECT p.id FROM app_user p WHERE p.institution_id = $1 AND lower(p.primary_identifier) = lower($2)
                  UNION ALL
                  SELECT ai.user_id FROM user_identifier ai WHERE ai.institution_id = $1 AND ai.value = $2)
   LIMIT 1) n)))::text`;

const PUBLIC = `u.record_type = 'PUBLIC'`;
const BY_NAME = 'u.sort_name';
const BY_EXPIRY = `coalesce(u.expiry_date, 'infinity'::date)`;
const ACTIVE_BLOCK = `EXISTS (SELECT 1 FROM user_block b WHERE b.user_id = u.id AND (b.expiry_date IS NULL OR b.expiry_date > now()))`;
/** How the users list matches a one-word name search (src/users/user.repository.ts): lower case, LIKE metacharacters escaped. */
const LIKE_NAME = `'%${NAME_SEARCH.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`).replace(/'/g, "''")}%'`;
const institutionOnly = (institutionId: string) => [institutionId];

export const FLOOR_STATEMENTS: FloorStatement[] = [
  { key: 'list', query: QUERIES.list, name: 'floor_list', text: listPage(PUBLIC, BY_NAME, true), values: institutionOnly },
  { key: 'nocount', query: QUERIES.nocount, name: 'floor_nocount', text: listPage(PUBLIC, BY_NAME, false), values: institutionOnly },
  {
    key: 'lookup', query: QUERIES.lookup, name: 'floor_lookup', text: LOOKUP,
    values: (institutionId, variables) => [institutionId, String(variables.v ?? '').trim()],
  },
  // The pattern is written into the statement: as a parameter, after five executions PostgreSQL switched to a generic
  // plan that cannot know '%an%' matches a quarter of the users (22 ms against 9 ms at 20,000 users).
  { key: 'name', query: QUERIES.name, name: 'floor_name', text: listPage(`${PUBLIC} AND u.search_text LIKE ${LIKE_NAME}`, BY_NAME, true), values: institutionOnly },
  { key: 'blocked', query: QUERIES.blocked, name: 'floor_blocked', text: listPage(`${PUBLIC} AND ${ACTIVE_BLOCK}`, BY_EXPIRY, true), values: institutionOnly },
];
