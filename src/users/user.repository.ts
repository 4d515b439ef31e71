import type { EntityManager } from 'typeorm';
import { User } from '../db/entities';
import type { UsersFilter } from '../generated/graphql';
import { roleInForceSql } from '../policy/roles-in-force.sql';
import { ownerCondition, ownerParam, OwnerScope } from '../policy/scope';
import { returningRows } from '../db/returning';
import { lockRow } from '../db/lock-row';
import type { CursorPosition } from '../common/cursor';
import { searchWords } from './user-search.validation';
import { coarseCountFilter, countUsersFromCounters } from './user-counts.repository';
import type { ChildScope } from '../db/child-rows';
import { Embedded, NO_READ_AHEAD, ReadAhead } from './user-children';
import { selectColumns } from '../db/plain-rows';
import { queryPrepared, SqlParams, sqlParams } from '../db/prepared';

/** Every read of users goes through here, always scoped to one institution. */

/** The sort keys of the users list: each matches an index of app_user, with id as the tie-breaker. */
export const SORT_KEYS = {
  NAME: { expression: 'u.sort_name', cast: 'text' },
  PRIMARY_IDENTIFIER: { expression: "coalesce(lower(u.primary_identifier), '')", cast: 'text' },
  EXPIRY_DATE: { expression: "coalesce(u.expiry_date, 'infinity'::date)", cast: 'date' },
} as const;

export type SortField = keyof typeof SORT_KEYS;

/** A page of users; the institution and the owner scope (the hasActiveBlock filter counts only blocks it may see, R5.2) come with the read scope. */
export interface UserPageRequest {
  filter: UsersFilter;
  sort: { field: SortField; direction: 'ASC' | 'DESC' };
  first: number;
  /** Keyset position: the sort key (as text, of the sort's key type) and id of the last user of the previous page. */
  after: CursorPosition | null;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Whether a statement with these filters must be planned for its values each time (db/prepared.ts): how many users a
 * name search or a statistic category matches, hence the best plan, depends on the values. (A generic plan walks the
 * users in page order for a category few or none have: 0.5 s at 100,000 users, against 0.2 ms planned for it.)
 */
export const planEachTime = (filter: UsersFilter) =>
  searchWords(filter.name).length > 0 || !!filter.statisticCategory || !!filter.statisticCategoryType;

/** R1.5: whether the user `alias` is ACTIVE and not expired today (the status filter, and userCounts' dimension). */
export const activeNotExpiredSql = (alias: string) =>
  `(${alias}.status = 'ACTIVE' AND (${alias}.expiry_date IS NULL OR ${alias}.expiry_date > current_date))`;

/**
 * The users-list filters as SQL conditions on `u`; each one is served by an index. Every read of users by a filter
 * (the list, its count, userCounts) builds its WHERE here.
 */
export function filterConditions(p: SqlParams, institutionId: string, filter: UsersFilter, scope: OwnerScope): string[] {
  const institution = p.once('institution', institutionId);
  // Purged users' stubs (R10.3) are no one: lists and counts leave them out (`user(id)` still answers them).
  const where = [`u.institution_id = ${institution}`, 'u.purged_at IS NULL'];
  if (filter.accountType) where.push(`u.account_type = ${p.add(filter.accountType)}`);
  if (filter.recordType) where.push(`u.record_type = ${p.add(filter.recordType)}`);
  if (filter.status) {
    const activeNotExpired = activeNotExpiredSql('u');
    where.push(filter.status === 'ACTIVE_NOT_EXPIRED' ? activeNotExpired : `NOT ${activeNotExpired}`);
  }
  // The service bounds the words (checkNameSearch): each is one condition.
  for (const word of searchWords(filter.name)) {
    // search_text holds main and preferred names (R1.3); a trigram index serves the LIKE.
    where.push(`u.search_text LIKE ${p.add(`%${escapeLike(word)}%`)}`);
  }
  if (filter.userGroup) where.push(`u.user_group = ${p.add(filter.userGroup)}`);
  if (filter.jobCategory) where.push(`u.job_category = ${p.add(filter.jobCategory)}`);
  if (filter.campus) where.push(`u.campus = ${p.add(filter.campus)}`);
  if (filter.expiringBefore) where.push(`u.expiry_date < ${p.add(filter.expiringBefore)}`);
  if (filter.roleType) {
    where.push(`EXISTS (SELECT 1 FROM role_assignment r WHERE r.institution_id = ${institution} AND r.role_type = ${p.add(filter.roleType)}
                AND r.user_id = u.id AND ${roleInForceSql('r')})`);
  }
  if (filter.email) {
    where.push(`EXISTS (SELECT 1 FROM user_email e WHERE e.institution_id = ${institution} AND lower(e.address) = lower(${p.add(filter.email.trim())})
                AND e.user_id = u.id)`);
  }
  if (filter.identifier) where.push(`u.id IN ${usersWithIdentifierSql(institution, p.add(filter.identifier.trim()))}`);
  if (typeof filter.hasActiveBlock === 'boolean') {
    const activeBlock = `EXISTS (SELECT 1 FROM user_block b WHERE b.user_id = u.id AND (b.expiry_date IS NULL OR b.expiry_date > now())
                         AND ${ownerCondition('b.owner_library_id', p.once('owners', ownerParam(scope)))})`;
    where.push(filter.hasActiveBlock ? activeBlock : `NOT ${activeBlock}`);
  }
  if (filter.statisticCategory || filter.statisticCategoryType) {
    // R5.2: one statistic must match every given part and be visible to the operator, or the user does not match.
    const parts = [
      ...(filter.statisticCategory ? [`s.category = ${p.add(filter.statisticCategory)}`] : []),
      ...(filter.statisticCategoryType ? [`s.category_type = ${p.add(filter.statisticCategoryType)}`] : []),
    ];
    where.push(`EXISTS (SELECT 1 FROM user_statistic s WHERE s.institution_id = ${institution} AND s.user_id = u.id AND ${parts.join(' AND ')}
                AND ${ownerCondition('s.owner_library_id', p.once('owners', ownerParam(scope)))})`);
  }
  return where;
}

/** A user row as read by the list, the lookups and the loaders: the entity's columns, plus its embedded children. */
export type UserRow = User & { embedded?: Embedded };

/** The select list of a users read: every column, and one JSON column per embedded child set (src/db/child-rows.ts). */
function userSelect(p: SqlParams, on: ChildScope, ahead: ReadAhead): string {
  const children = ahead.embedding.map(({ set, fields }, i) => `, ${set.json('u.id', p, on, fields)} AS "embedded_${i}"`).join('');
  return `${selectColumns(on.db, User, 'u', ahead.columns)}${children}`;
}

/** Moves the embedded JSON columns of each row into `embedded`, read as the loaders would give them. */
function withEmbedded(rows: Record<string, unknown>[], on: ChildScope, { embedding: embed }: ReadAhead): UserRow[] {
  if (embed.length === 0) return rows as unknown as UserRow[];
  for (const row of rows) {
    const embedded: Record<string, unknown> = {};
    embed.forEach(({ set, key }, i) => (embedded[key] = set.read(row[`embedded_${i}`], row.id as string, on)));
    row.embedded = embedded as Embedded;
  }
  return rows as unknown as UserRow[];
}

/**
 * One page of users in the requested order, plus one extra row that tells whether a next page exists, reading ahead
 * as `ahead` says: the columns the query needs and its children in the same statement.
 */
export async function findUserPage(on: ChildScope, req: UserPageRequest, ahead: ReadAhead = NO_READ_AHEAD): Promise<(UserRow & { sortKey: string })[]> {
  const { expression, cast } = SORT_KEYS[req.sort.field];
  const p = sqlParams();
  const where = filterConditions(p, on.institutionId, req.filter, on.scope);
  if (req.after) {
    const op = req.sort.direction === 'ASC' ? '>' : '<';
    where.push(`(${expression}, u.id) ${op} (CAST(${p.add(req.after.key)} AS ${cast}), ${p.add(req.after.id)}::uuid)`);
  }
  // The page is cut first, then its children are read: the subqueries run for the page's rows only.
  const rows = await queryPrepared<Record<string, unknown>>(on.db,
    `SELECT ${userSelect(p, on, ahead)}, (${expression})::text AS "sortKey"
       FROM app_user u
      WHERE ${where.join(' AND ')}
      ORDER BY ${expression} ${req.sort.direction}, u.id ${req.sort.direction}
      LIMIT ${p.add(req.first + 1)}`,
    p.values, planEachTime(req.filter));
  return withEmbedded(rows, on, ahead) as (UserRow & { sortKey: string })[];
}

/**
 * How many users match: from the counters the database keeps (user-counts.repository.ts) when the filter is only
 * record type, account type and status, else counted over the matching rows.
 */
export async function countUsers(db: EntityManager, institutionId: string, filter: UsersFilter, scope: OwnerScope): Promise<number> {
  const coarse = coarseCountFilter(filter);
  if (coarse) return countUsersFromCounters(db, institutionId, coarse);
  const p = sqlParams();
  const where = filterConditions(p, institutionId, filter, scope);
  const [row] = await queryPrepared<{ n: number }>(db, `SELECT count(*)::int AS n FROM app_user u WHERE ${where.join(' AND ')}`, p.values, planEachTime(filter));
  return row.n;
}

export async function findUsersByIds(db: EntityManager, institutionId: string, ids: readonly string[]): Promise<User[]> {
  return queryPrepared<User>(db,
    `SELECT ${selectColumns(db, User, 'u')} FROM app_user u WHERE u.institution_id = $1 AND u.id = ANY($2::uuid[])`,
    [institutionId, ids]);
}

/** One user of the institution, row-locked until the transaction ends, for read-modify-write changes. */
export function findUserForUpdate(tx: EntityManager, institutionId: string, id: string): Promise<User | null> {
  return lockRow(tx, User, institutionId, id);
}

/**
 * R1.4: any change to a user's items is a change of the user (updated by,
 * updated date). Updates the row and the loaded entity alike.
 */
export async function markUserUpdated(tx: EntityManager, user: User, actor: string): Promise<void> {
  const [row] = await returningRows<{ updated_at: Date }>(tx,
    `UPDATE app_user SET updated_by = $3, updated_at = now() WHERE institution_id = $1 AND id = $2 RETURNING updated_at`,
    [user.institutionId, user.id, actor],
  );
  Object.assign(user, { updatedBy: actor, updatedAt: row.updated_at });
}

/**
 * R2.3, R2.4: the ids of the users of an institution whose primary identifier
 * equals a value case-insensitively or whose additional identifier equals it
 * exactly. A UNION rather than an OR, so each side is one index lookup (an OR
 * across the two tables made PostgreSQL scan every user: 38 ms against
 * 0.15 ms at 100,000 users).
 */
export function usersWithIdentifierSql(institution: string, value: string): string {
  return `(SELECT p.id FROM app_user p WHERE p.institution_id = ${institution} AND lower(p.primary_identifier) = lower(${value})
           UNION ALL
           SELECT ai.user_id FROM user_identifier ai WHERE ai.institution_id = ${institution} AND ai.value = ${value})`;
}

/** The user whose primary or additional identifier is `value` (R2.3, R2.4), read ahead as `ahead` says, in one statement. */
export async function findUserByIdentifier(on: ChildScope, value: string, ahead: ReadAhead = NO_READ_AHEAD): Promise<UserRow | null> {
  const p = sqlParams();
  const institution = p.once('institution', on.institutionId);
  const rows = await queryPrepared<Record<string, unknown>>(on.db,
    `SELECT ${userSelect(p, on, ahead)} FROM app_user u
      WHERE u.institution_id = ${institution} AND u.purged_at IS NULL AND u.id IN ${usersWithIdentifierSql(institution, p.add(value))}`,
    p.values);
  return withEmbedded(rows, on, ahead)[0] ?? null;
}

/** R1.6: users with the same first name, last name and birth date. */
export async function findPossibleDuplicates(
  db: EntityManager,
  institutionId: string,
  person: { firstName: string; lastName: string; birthDate: string },
): Promise<User[]> {
  return db.getRepository(User).createQueryBuilder('u')
    .where('u.institution_id = :institutionId', { institutionId })
    .andWhere('lower(u.first_name) = lower(:firstName) AND lower(u.last_name) = lower(:lastName) AND u.birth_date = :birthDate', person)
    .getMany();
}
