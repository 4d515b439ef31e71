import type { RoleScopeRef } from '../roles/role-scope';
import { roleTypeInfo } from '../roles/role-types';
import type { OperatorRole } from './operator';

/**
 * The subset rule: nobody gives a role, or a credential of a user holding
 * roles, beyond what they could assign themselves. These are the facts the
 * policy's guards build on; the guards themselves are in policy.ts.
 */

/** A role as stored on a user, a profile entry or an API key, or as asked for. */
export type HeldRole = { roleType: string; expiryDate?: string | null } & RoleScopeRef;

const today = () => new Date().toISOString().slice(0, 10);

/** Whether a role gives rights now: active, scoped, not past its expiry date (the same rule as roleInForceSql). */
export function isInForce(role: HeldRole & { isActive: boolean }): boolean {
  return role.isActive && role.scopeType !== null && (!role.expiryDate || role.expiryDate >= today());
}

/**
 * Whether holding the role can give its holder any right. A role that needs
 * no scope (Patron) gives none; neither does a role without a scope (R4.3:
 * it cannot be activated until someone assigns it again with one) nor a role
 * past its expiry date. An inactive role with a scope does count: anyone who
 * may switch it back on makes it a right again.
 */
export function carriesPower(role: HeldRole): boolean {
  const info = roleTypeInfo(role.roleType);
  if (info && !info.needsScope) return false;
  if (role.scopeType === null) return false;
  return !role.expiryDate || role.expiryDate >= today();
}

/**
 * Whether a role the operator holds reaches a role's scope when handing roles
 * out (R4.1). An institution scope reaches every scope; a library scope its
 * library and the library's desks; a desk scope that desk only. (Owned items
 * are another matter: there a desk scope covers its library, R5.2.)
 */
export function reachesScope(holder: OperatorRole, role: HeldRole): boolean {
  switch (holder.scopeType) {
    case 'INSTITUTION':
      return true;
    case 'LIBRARY':
      return role.scopeType !== 'INSTITUTION' && role.scopeLibraryId === holder.libraryId;
    case 'CIRCULATION_DESK':
      return role.scopeType === 'CIRCULATION_DESK' && role.scopeDeskId === holder.deskId;
  }
}

/** Whether `assigners` (the operator's roles that grant 'role.assign') may hand out `role`: a role without power needs no reach. */
export function mayGrant(assigners: readonly OperatorRole[], role: HeldRole): boolean {
  return !carriesPower(role) || assigners.some((holder) => reachesScope(holder, role));
}

/**
 * Whether an operator may put `role` on an API key it creates: what it may
 * grant, or a role it holds itself at a scope reaching it. A key is its
 * creator's delegate, so it may carry the creator's own roles, never more.
 */
export function mayDelegate(assigners: readonly OperatorRole[], held: readonly OperatorRole[], role: HeldRole): boolean {
  return mayGrant(assigners, role) || held.some((h) => h.roleType === role.roleType && reachesScope(h, role));
}
