import type { ScopeType } from '../db/entities';

/** A role's scope as role assignments and profile entries store it. */
export interface RoleScopeRef {
  scopeType: ScopeType | null;
  scopeLibraryId: string | null;
  scopeDeskId: string | null;
}

/** Two roles are the same assignment when type and scope match. */
export function sameRole(a: { roleType: string } & RoleScopeRef, b: { roleType: string } & RoleScopeRef): boolean {
  return a.roleType === b.roleType && a.scopeType === b.scopeType && a.scopeLibraryId === b.scopeLibraryId && a.scopeDeskId === b.scopeDeskId;
}

/** How a role reads in history and events: `USER_MANAGER@LIBRARY:<id>`. */
export function describeRole(role: { roleType: string } & RoleScopeRef): string {
  const where = role.scopeType === null ? 'no scope' : role.scopeType === 'INSTITUTION' ? 'INSTITUTION'
    : `${role.scopeType}:${role.scopeDeskId ?? role.scopeLibraryId}`;
  return `${role.roleType}@${where}`;
}
