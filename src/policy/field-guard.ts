import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { defaultFieldResolver, getNamedType, GraphQLFieldResolver, GraphQLSchema, isObjectType } from 'graphql';
import { forbidden } from '../common/errors';
import type { RequestContext } from '../context';
import { accessOf, ARGUMENT_ACCESS } from './field-access';

/**
 * Puts every field of the schema behind the rule field-access.ts gives it,
 * checked by the request's policy before the field resolves. A field with no
 * rule is refused: forgetting to map a new field closes it rather than
 * opening it. Introspection fields are not object fields of the schema and
 * stay untouched.
 */
export function guardSchema(schema: GraphQLSchema): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      const access = accessOf(typeName, fieldName);
      const resolve = field.resolve ?? defaultFieldResolver;
      if (access === undefined) {
        const refuse = () => { throw forbidden(`${typeName}.${fieldName} has no access rule in the policy`); };
        return { ...field, resolve: refuse, ...(field.subscribe ? { subscribe: refuse } : {}) };
      }
      if (access === 'public') return field;
      const argumentRules = Object.entries(ARGUMENT_ACCESS[`${typeName}.${fieldName}`] ?? {});
      const guarded = <F extends GraphQLFieldResolver<unknown, RequestContext>>(inner: F) =>
        ((source, args, ctx, info) => {
          ctx.policy.assertField(typeof access === 'function' ? access(source) : access, source);
          for (const [path, action] of argumentRules) {
            const value = path.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown> | null | undefined)?.[key], args);
            if (value != null && value !== '') ctx.policy.assertField(action, source);
          }
          return inner(source, args, ctx, info);
        }) as GraphQLFieldResolver<unknown, RequestContext>;
      // A subscription field is checked when it is subscribed to, and again for every event it delivers.
      return { ...field, resolve: guarded(resolve), ...(field.subscribe ? { subscribe: guarded(field.subscribe) } : {}) };
    },
  });
}

/**
 * The object types that hold data about a user: every type reachable from
 * `User` through its fields, and every type with a field returning one of
 * those (payloads, reports). The field-coverage test walks these.
 */
export function userDataTypes(schema: GraphQLSchema): Set<string> {
  const reachable = new Set<string>();
  const visit = (name: string) => {
    const type = schema.getType(name);
    if (!isObjectType(type) || reachable.has(name)) return;
    reachable.add(name);
    for (const field of Object.values(type.getFields())) visit(getNamedType(field.type).name);
  };
  visit('User');
  const holders = new Set(reachable);
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || ['Query', 'Mutation', 'Subscription'].includes(type.name)) continue;
    if (Object.values(type.getFields()).some((f) => reachable.has(getNamedType(f.type).name))) holders.add(type.name);
  }
  return holders;
}
