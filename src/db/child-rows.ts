import DataLoader from 'dataloader';
import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { OwnerScope } from '../policy/scope';
import { ColumnRule, columnsFor } from './columns-for';
import { fromJson, jsonObject } from './plain-rows';
import { queryPrepared, SqlParams, sqlParams } from './prepared';

/** What a child set's statement is bound to: the request's database handle, institution and owner scope. */
export interface ChildScope {
  db: EntityManager;
  institutionId: string;
  scope: OwnerScope;
}

/**
 * The children of a parent (a user's identifiers, roles, blocks; its fine
 * summary) as one JSON value per parent, written once and read two ways:
 * - embedded as a column of the statement that reads the parents (a list page
 *   reads its users and their children in one statement, see user-page.ts);
 * - by `childLoader`, for parents read some other way: one statement per
 *   batch of parents.
 * Either way the rows, their order and the policy's owner condition are the
 * same SQL, so the two paths cannot answer differently.
 */
export interface ChildSet<T> {
  /**
   * A scalar subquery: the JSON of the children of the parent whose id is the SQL expression `parent`; with
   * `fields` (the GraphQL fields a query selects on them), only the columns those need (db/columns-for.ts).
   */
  json(parent: string, p: SqlParams, on: ChildScope, fields?: Iterable<string>): string;
  /** The JSON value of one parent (as pg parsed it) as the loader gives it. */
  read(value: unknown, parentId: string, on: ChildScope): T;
}

/** The institution id's placeholder, shared by every subquery of a statement. */
export const institutionParam = (p: SqlParams, on: ChildScope) => p.once('institution', on.institutionId);

/**
 * Rows of `entity` that belong to a parent, in `order`, as entity-shaped
 * objects. `where` is the condition on the child table (aliased `alias`) for
 * the parent whose id is `parent`, policy conditions included; `columns` says
 * which columns the GraphQL fields of the child type read.
 */
export function childRows<T extends ObjectLiteral>(
  entity: EntityTarget<T>,
  alias: string,
  spec: { from: string; where: (parent: string, p: SqlParams, on: ChildScope) => string; order: string; columns: ColumnRule },
): ChildSet<T[]> {
  // The fields sets come from read-ahead, worked out once per query: so are the columns they need.
  const columnsOf = new WeakMap<Iterable<string>, ReadonlySet<string> | null>();
  return {
    json: (parent, p, on, fields) => {
      let only: ReadonlySet<string> | null = null;
      if (fields) {
        only = columnsOf.get(fields) ?? null;
        if (!columnsOf.has(fields)) columnsOf.set(fields, (only = columnsFor(on.db, entity, spec.columns, fields)));
      }
      return `(SELECT coalesce(json_agg(${jsonObject(on.db, entity, alias, only)} ORDER BY ${spec.order}), '[]'::json)
                 FROM ${spec.from} WHERE ${spec.where(parent, p, on)})`;
    },
    read: (value, _parentId, on) => fromJson<T>(on.db, entity)(value as T[]),
  };
}

/** The children of each of `ids`, in the order of `ids`, in one statement. */
export async function readChildren<T>(set: ChildSet<T>, on: ChildScope, ids: readonly string[]): Promise<T[]> {
  const p = sqlParams();
  const parents = p.add(ids);
  const rows = await queryPrepared<{ v: unknown }>(
    on.db,
    `SELECT ${set.json('p.id', p, on)} AS v FROM unnest(${parents}::uuid[]) WITH ORDINALITY AS p(id, n) ORDER BY p.n`,
    p.values,
  );
  return rows.map((row, i) => set.read(row.v, ids[i], on));
}

/** A DataLoader over a child set: the children of every parent of a batch in one statement. */
export function childLoader<T>(set: ChildSet<T>, on: ChildScope): DataLoader<string, T> {
  return new DataLoader<string, T>((ids) => readChildren(set, on, ids));
}
