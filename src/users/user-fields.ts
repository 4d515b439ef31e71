import type { User } from '../db/entities';

/** R1.3: preferred names replace the main names wherever a name is shown. */
export function displayName(user: User): string {
  const parts = [
    user.preferredFirstName ?? user.firstName,
    user.preferredMiddleName ?? user.middleName,
    user.preferredLastName ?? user.lastName,
  ].filter((p): p is string => !!p);
  return parts.length > 0 ? parts.join(' ') : (user.primaryIdentifier ?? '(no name)');
}

/** R1.5: ACTIVE and with no expiry date or one in the future. */
export function isActiveNotExpired(user: User, today = new Date().toISOString().slice(0, 10)): boolean {
  return user.status === 'ACTIVE' && (user.expiryDate === null || user.expiryDate > today);
}
