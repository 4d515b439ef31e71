/**
 * R4.5: vendor accounts nobody may deactivate, edit, delete or purge, and the
 * technical accounts that may never log in as staff. The same rule is
 * rendered as SQL in protected-accounts.sql.ts from these lists.
 */
export const PROTECTED_PREFIXES = ['exl_', 'rialto_'] as const;
export const PROTECTED_IDENTIFIERS = ['leganto_guest'] as const;
const TECHNICAL_ACCOUNTS = new Set(['exl_api', 'saas_admin']);

export function isProtectedAccount(primaryIdentifier: string | null): boolean {
  if (!primaryIdentifier) return false;
  const id = primaryIdentifier.toLowerCase();
  return PROTECTED_PREFIXES.some((p) => id.startsWith(p)) || (PROTECTED_IDENTIFIERS as readonly string[]).includes(id);
}

export function isTechnicalAccount(primaryIdentifier: string | null): boolean {
  return !!primaryIdentifier && TECHNICAL_ACCOUNTS.has(primaryIdentifier.toLowerCase());
}
