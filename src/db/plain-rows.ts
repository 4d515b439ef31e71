import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * Reads of entities as plain rows shaped like the entity (its property names,
 * its value types), without TypeORM's query building and hydration, which cost
 * about 2 ms of a list page's server time. The column list comes from the
 * entity's metadata, so a column added to an entity is read everywhere.
 *
 * Value types match what TypeORM hydrates: pg parses timestamptz to Date,
 * numeric and bigint to strings, and `date` to 'YYYY-MM-DD' (ormconfig.ts).
 * Inside JSON (children embedded in a parent's row) numeric and bigint are
 * cast to text, so no amount goes through a JSON number, and timestamps come
 * back as ISO strings that `fromJson` turns into Dates.
 */
interface Shape {
  columns: { property: string; column: string; type: string }[];
  dates: string[];
  /** Built select lists and JSON objects by alias: statement texts are rebuilt per request, their parts are not. */
  built: Map<string, string>;
}

const shapes = new Map<EntityTarget<ObjectLiteral>, Shape>();

function shapeOf(db: EntityManager, entity: EntityTarget<ObjectLiteral>): Shape {
  let shape = shapes.get(entity);
  if (!shape) {
    const columns = db.connection.getMetadata(entity).columns.map((c) => ({ property: c.propertyName, column: c.databaseName, type: String(c.type) }));
    shape = { columns, dates: columns.filter((c) => c.type === 'timestamptz').map((c) => c.property), built: new Map() };
    shapes.set(entity, shape);
  }
  return shape;
}

/** `alias.column AS "property", ...`: every column of the entity, or those of the properties in `only`. */
export function selectColumns(db: EntityManager, entity: EntityTarget<ObjectLiteral>, alias: string, only: ReadonlySet<string> | null = null): string {
  const key = only ? `columns ${alias} ${keyOf(only)}` : `columns ${alias}`;
  return built(shapeOf(db, entity), key, (columns) =>
    columns.filter((c) => !only || only.has(c.property)).map((c) => `${alias}.${c.column} AS "${c.property}"`).join(', '));
}

/** A set of properties as a text key, kept per set: the sets read-ahead builds are reused by every request. */
const setKeys = new WeakMap<ReadonlySet<string>, string>();
function keyOf(only: ReadonlySet<string>): string {
  let key = setKeys.get(only);
  if (key === undefined) setKeys.set(only, (key = [...only].sort().join(',')));
  return key;
}

/** Parts kept per entity: as many as the column sets clients ask for in practice, not as many as they could. */
const MAX_BUILT = 500;

function built(shape: Shape, key: string, build: (columns: Shape['columns']) => string): string {
  let text = shape.built.get(key);
  if (text === undefined) {
    text = build(shape.columns);
    if (shape.built.size < MAX_BUILT) shape.built.set(key, text);
  }
  return text;
}

const asText = new Set(['numeric', 'bigint']);

/** `json_build_object('property', alias.column, ...)`: one row of the entity as JSON, or the properties in `only`. */
export function jsonObject(db: EntityManager, entity: EntityTarget<ObjectLiteral>, alias: string, only: ReadonlySet<string> | null = null): string {
  const key = only ? `json ${alias} ${keyOf(only)}` : `json ${alias}`;
  return built(shapeOf(db, entity), key, (columns) => `json_build_object(${columns
    .filter((c) => !only || only.has(c.property))
    .map((c) => `'${c.property}', ${alias}.${c.column}${asText.has(c.type) ? '::text' : ''}`)
    .join(', ')})`);
}

/** Turns rows read as `jsonObject` into the values TypeORM would have hydrated (timestamps as Dates). */
export function fromJson<T>(db: EntityManager, entity: EntityTarget<ObjectLiteral>): (rows: T[]) => T[] {
  const { dates } = shapeOf(db, entity);
  return (rows) => {
    if (dates.length === 0) return rows;
    for (const row of rows as Record<string, unknown>[]) {
      for (const property of dates) {
        const value = row[property];
        if (typeof value === 'string') row[property] = new Date(value);
      }
    }
    return rows;
  };
}
