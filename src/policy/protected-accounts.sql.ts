import { PROTECTED_IDENTIFIERS, PROTECTED_PREFIXES } from './protected-accounts';

/**
 * R4.5 in SQL, for statements that must leave protected accounts out (the
 * named-user count, the staff login report), built from the same lists as
 * `isProtectedAccount`.
 */

const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * True when the primary identifier in `column` names a protected account,
 * false otherwise (also for a NULL identifier: contacts are not protected).
 * `starts_with` rather than LIKE, since `_` is a LIKE wildcard.
 */
export function protectedAccountSql(column: string): string {
  const id = `lower(${column})`;
  const tests = [
    ...PROTECTED_PREFIXES.map((prefix) => `starts_with(${id}, ${literal(prefix)})`),
    `${id} IN (${PROTECTED_IDENTIFIERS.map(literal).join(', ')})`,
  ];
  return `coalesce(${tests.join(' OR ')}, false)`;
}

/** The complement of `protectedAccountSql`: true for every account the R4.5 rule does not protect (NULL identifiers included). */
export function notProtectedAccountSql(column: string): string {
  return `NOT ${protectedAccountSql(column)}`;
}
