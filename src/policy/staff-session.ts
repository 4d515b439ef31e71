import { roleTypeInfo } from '../roles/role-types';
import type { OperatorRole } from './operator';
import { isTechnicalAccount } from './protected-accounts';

/** What deciding whether a user may act as staff needs to know. */
export interface StaffCandidate {
  primaryIdentifier: string | null;
  recordType: string;
  /** ACTIVE and not expired (R1.5). */
  active: boolean;
  /** Roles in force: active, scoped, not past their expiry date. */
  roles: readonly OperatorRole[];
}

/**
 * Why a user may not log in or keep acting as a staff operator, or null when
 * it may: contacts, inactive or expired accounts, accounts without a staff
 * role, and the technical accounts (R4.5). Checked at login and again on
 * every request, so losing any of these revokes a session at once.
 */
export function staffSessionRefusal(user: StaffCandidate): string | null {
  if (isTechnicalAccount(user.primaryIdentifier)) return 'Technical accounts cannot log in as staff';
  if (user.recordType === 'CONTACT') return 'Contact records cannot log in';
  if (!user.active) return 'The account is inactive or expired';
  if (!user.roles.some((r) => roleTypeInfo(r.roleType)?.staff)) return 'The account holds no staff role';
  return null;
}
