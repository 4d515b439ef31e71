import { getNamedType, GraphQLField, GraphQLOutputType, isLeafType, isObjectType, isNonNullType } from 'graphql';

/**
 * A small valid selection for a field's return type, two levels deep: a few
 * leaf fields of the type, and the leaf fields of a couple of its object
 * fields. Fields with required arguments are left out. Enough to make the
 * query valid and to resolve the fields a client commonly reads, small
 * enough to stay within the server's cost limits.
 */

const LEAVES = 6;
const CHILDREN = 2;
const CHILD_LEAVES = 4;

const takesNoRequiredArgs = (field: GraphQLField<unknown, unknown>) => field.args.every((a) => !isNonNullType(a.type) || a.defaultValue !== undefined);

function leaves(type: GraphQLOutputType, max: number): string[] {
  const named = getNamedType(type);
  if (!isObjectType(named)) return ['__typename'];
  const names = Object.values(named.getFields()).filter((f) => isLeafType(getNamedType(f.type)) && takesNoRequiredArgs(f)).map((f) => f.name);
  return names.length > 0 ? names.slice(0, max) : ['__typename'];
}

/** `{ a b c child { x y } }` for an object type, '' for a leaf. */
export function selectionFor(type: GraphQLOutputType): string {
  const named = getNamedType(type);
  if (!isObjectType(named)) return isLeafType(named) ? '' : '{ __typename }';
  const children = Object.values(named.getFields())
    .filter((f) => isObjectType(getNamedType(f.type)) && takesNoRequiredArgs(f))
    .slice(0, CHILDREN)
    .map((f) => `${f.name} { ${leaves(f.type, CHILD_LEAVES).join(' ')} }`);
  return `{ ${[...leaves(named, LEAVES), ...children].join(' ')} }`;
}
