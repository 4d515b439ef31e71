/**
 * R4.5: vendor accounts nobody may deactivate, edit, delete or purge, and the
 * technical accounts that may never log in as staff.
 */
export function isProtectedAccount(primaryIdentifier: string | null): boolean {
  if (!primaryIdentifier) return false;
  const id = primaryIdentifier.toLowerCase();
  return id.startsWith('exl_') || id.startsWith('rialto_') || id === 'leganto_guest';
}

const TECHNICAL_ACCOUNTS = new Set(['exl_api', 'saas_admin']);

export function isTechnicalAccount(primaryIdentifier: string | null): boolean {
  return !!primaryIdentifier && TECHNICAL_ACCOUNTS.has(primaryIdentifier.toLowerCase());
}
