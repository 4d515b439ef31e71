import { roleTypeInfo } from '../roles/role-types';
import type { Operator, OperatorRole } from './operator';

/**
 * A set of owners (the institution or a library) that some roles' scopes
 * cover: every owner, or a set of libraries. An institution scope covers
 * every library; a library or desk scope covers that library (R5.2).
 */
export type OwnerScope = { all: true } | { all: false; libraryIds: string[] };

export function scopeOfRoles(roles: readonly OperatorRole[]): OwnerScope {
  if (roles.some((r) => r.scopeType === 'INSTITUTION')) return { all: true };
  return { all: false, libraryIds: [...new Set(roles.map((r) => r.libraryId).filter((id): id is string => id !== null))] };
}

/**
 * What an operator may see of owned items (notes, blocks, fines,
 * statistics). Institution-owned items are visible to every operator of the
 * institution: the seeds restrict only library-owned items ("only users whose
 * role is scoped to this library will be able to see this note").
 */
export function ownerScope(operator: Operator): OwnerScope {
  return operator.libraryIndependence ? scopeOfRoles(operator.roles.filter(reachesOwners)) : { all: true };
}

/**
 * A role that needs no scope (Patron) is stored at the institution, but that scope is no reach: a desk operator who is
 * also a patron sees its own library's items, not every library's.
 */
const reachesOwners = (role: OperatorRole) => roleTypeInfo(role.roleType)?.needsScope !== false;

/** Whether the scope reaches an item owned by `libraryId` (null: the institution, reached only by an institution scope). */
export function coversOwner(scope: OwnerScope, libraryId: string | null): boolean {
  return scope.all || (libraryId !== null && scope.libraryIds.includes(libraryId));
}

/** Whether an owned item is visible under the scope: institution-owned items always are. */
export function canSeeOwned(scope: OwnerScope, libraryId: string | null): boolean {
  return libraryId === null || coversOwner(scope, libraryId);
}

/**
 * The SQL condition that keeps rows whose owner `column` the scope lets the
 * operator see. `param` is the placeholder bound to `ownerParam(scope)`: NULL
 * means every owner, so the statement text is the same for every operator.
 */
export function ownerCondition(column: string, param: string): string {
  return `(${param}::uuid[] IS NULL OR ${column} IS NULL OR ${column} = ANY(${param}::uuid[]))`;
}

/**
 * The SQL condition that keeps rows whose owner `column` the scope covers (coversOwner): institution-owned rows only
 * for a scope of every owner. `param` is bound to `ownerParam(scope)`.
 */
export function coverCondition(column: string, param: string): string {
  return `(${param}::uuid[] IS NULL OR ${column} = ANY(${param}::uuid[]))`;
}

export function ownerParam(scope: OwnerScope): string[] | null {
  return scope.all ? null : scope.libraryIds;
}
