import type { FieldNode, GraphQLResolveInfo, SelectionNode } from 'graphql';
import { Kind } from 'graphql';

/**
 * The names of the fields a query selects at `path` below the field being
 * resolved (`['edges', 'node']` from `users`), through fragments and inline
 * fragments. `@skip` and `@include` are not evaluated: a field they leave out
 * is still named, so a reader that reads ahead (to embed children in one
 * statement) may read a little more than asked, never less than resolved.
 */
export function fieldsAhead(info: GraphQLResolveInfo, path: readonly string[] = []): Set<string> {
  let fields = fieldsOf(info.fieldNodes.flatMap((node) => node.selectionSet?.selections ?? []), info);
  for (const name of path) {
    fields = fieldsOf(fields.filter((f) => f.name.value === name).flatMap((f) => f.selectionSet?.selections ?? []), info);
  }
  return new Set(fields.map((f) => f.name.value));
}

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
