import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * Which columns of an entity a read needs for the GraphQL fields a query selects on its type: a field named like an
 * entity property reads that column, `computed` fields read what their resolvers use, `byId` fields (resolved through
 * a loader by the row's id) read nothing more, `always` is read whatever is selected (what the field guard and the
 * resolvers of every field rely on). Any other field reads every column, so a field added later is answered right
 * before it is answered fast.
 */
export interface ColumnRule {
  always: readonly string[];
  computed?: Readonly<Record<string, readonly string[]>>;
  byId?: ReadonlySet<string>;
}

const properties = new Map<EntityTarget<ObjectLiteral>, ReadonlySet<string>>();

/** The properties to read for `fields`, or null for every column. */
export function columnsFor(db: EntityManager, entity: EntityTarget<ObjectLiteral>, rule: ColumnRule, fields: Iterable<string>): ReadonlySet<string> | null {
  let known = properties.get(entity);
  if (!known) properties.set(entity, (known = new Set(db.connection.getMetadata(entity).columns.map((c) => c.propertyName))));
  const needed = new Set(rule.always);
  for (const field of fields) {
    if (field === '__typename' || rule.byId?.has(field)) continue;
    const computed = rule.computed?.[field];
    if (computed) computed.forEach((p) => needed.add(p));
    else if (known.has(field)) needed.add(field);
    else return null;
  }
  return needed;
}
