import type { Operator } from './operator';

/**
 * Which owners of notes, blocks, fines and statistics an operator may see
 * (R5.2): every owner, or the institution plus a set of libraries. An
 * institution scope covers every library; a library or desk scope covers
 * that library. Institution-owned items are visible to every operator of the
 * institution: the seeds restrict only library-owned items ("only users whose
 * role is scoped to this library will be able to see this note").
 */
export type OwnerScope = { all: true } | { all: false; libraryIds: string[] };

export function ownerScope(operator: Operator): OwnerScope {
  if (!operator.libraryIndependence || operator.roles.some((r) => r.scopeType === 'INSTITUTION')) return { all: true };
  const libraryIds = [...new Set(operator.roles.map((r) => r.libraryId).filter((id): id is string => id !== null))];
  return { all: false, libraryIds };
}

/**
 * The SQL condition that keeps rows whose owner `column` the scope covers.
 * `param` is the placeholder bound to `ownerParam(scope)`: NULL means every
 * owner, so the statement text is the same for every operator.
 */
export function ownerCondition(column: string, param: string): string {
  return `(${param}::uuid[] IS NULL OR ${column} IS NULL OR ${column} = ANY(${param}::uuid[]))`;
}

export function ownerParam(scope: OwnerScope): string[] | null {
  return scope.all ? null : scope.libraryIds;
}

export function coversOwner(scope: OwnerScope, libraryId: string | null): boolean {
  return scope.all || libraryId === null || scope.libraryIds.includes(libraryId);
}
