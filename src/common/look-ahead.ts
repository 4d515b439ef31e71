import type { FieldNode, GraphQLResolveInfo, SelectionNode } from 'graphql';
import { Kind } from 'graphql';

/**
 * What a query selects below the field being resolved, at `path` (`['edges', 'node']` from `users`): each field's
 * name with the names of the fields selected inside it (every occurrence together: aliases, fragments and inline
 * fragments included). `@skip` and `@include` are not evaluated: a field they leave out is still named, so a reader
 * that reads ahead (to embed children in one statement) may read a little more than asked, never less than resolved.
 */
export function fieldsAhead(info: GraphQLResolveInfo, path: readonly string[] = []): Map<string, Set<string>> {
  let fields = fieldsOf(info.fieldNodes.flatMap((node) => node.selectionSet?.selections ?? []), info);
  for (const name of path) fields = fieldsOf(inside(fields.filter((f) => f.name.value === name)), info);
  const ahead = new Map<string, Set<string>>();
  for (const field of fields) {
    const names = ahead.get(field.name.value) ?? new Set<string>();
    for (const sub of fieldsOf(inside([field]), info)) names.add(sub.name.value);
    ahead.set(field.name.value, names);
  }
  return ahead;
}

const inside = (fields: FieldNode[]) => fields.flatMap((f) => f.selectionSet?.selections ?? []);

function fieldsOf(selections: readonly SelectionNode[], info: GraphQLResolveInfo): FieldNode[] {
  const out: FieldNode[] = [];
  const visit = (list: readonly SelectionNode[]) => {
    for (const s of list) {
      if (s.kind === Kind.FIELD) out.push(s);
      else if (s.kind === Kind.INLINE_FRAGMENT) visit(s.selectionSet.selections);
      else {
        // Validation refuses fragment cycles before anything resolves.
        const fragment = info.fragments[s.name.value];
        if (fragment) visit(fragment.selectionSet.selections);
      }
    }
  };
  visit(selections);
  return out;
}
