import type { User } from '../db/entities';
import type { KeptField } from '../generated/graphql';

/**
 * R3.3, R3.4: the general fields of an EXTERNAL user that staff may keep
 * from the SIS (the seeds' platform asks about exactly these), by the user
 * property each one is.
 */
export const KEPT_FIELD_PROPERTY = {
  TITLE: 'title',
  PIN_NUMBER: 'pinNumber',
  JOB_CATEGORY: 'jobCategory',
  USER_GROUP: 'userGroup',
  CAMPUS: 'campus',
  PREFERRED_LANGUAGE: 'preferredLanguage',
  RESOURCE_SHARING_LIBRARIES: 'resourceSharingLibraries',
  CATALOGER_LEVEL: 'catalogerLevel',
  PATRON_LETTERS: 'patronLetters',
} as const satisfies Record<KeptField, keyof User>;

export type KeptProperty = (typeof KEPT_FIELD_PROPERTY)[KeptField];

/** The enum's order, so a stored set compares equal however it was sent. */
export const KEPT_FIELD_ORDER = Object.keys(KEPT_FIELD_PROPERTY) as KeptField[];

export const isKeptField = (value: string): value is KeptField => value in KEPT_FIELD_PROPERTY;

/** Two stored values (text, date, code list) compare equal. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return (a ?? null) === (b ?? null);
}

/**
 * R3.4 as the seeds' platform does it: a keepable field of an EXTERNAL user
 * that staff set to something other than what the SIS sent is kept from the
 * next synchronisation; set back to the SIS's value, it follows the SIS
 * again. Only fields the SIS has sent are decided (a toggled account the SIS
 * has not synchronised yet keeps nothing). Returns the new set, or null when
 * it stays as it is.
 */
export function keptFieldsAfterEdit(
  user: Pick<User, 'accountType' | 'keptFields' | 'sisValues'>,
  edits: Partial<Record<string, unknown>>,
): KeptField[] | null {
  if (user.accountType !== 'EXTERNAL') return null;
  const kept = new Set(user.keptFields);
  for (const field of KEPT_FIELD_ORDER) {
    const property = KEPT_FIELD_PROPERTY[field];
    if (!(property in edits) || !(property in user.sisValues)) continue;
    if (sameValue(edits[property], user.sisValues[property])) kept.delete(field);
    else kept.add(field);
  }
  const next = KEPT_FIELD_ORDER.filter((f) => kept.has(f));
  return sameValue(next, KEPT_FIELD_ORDER.filter((f) => user.keptFields.includes(f))) ? null : next;
}

/**
 * The fields R9.1 records, as history names them; the rest (gender, last
 * patron activity date ...) change without a history entry. The PIN is
 * recorded too, as a fact (secretChange), never its value.
 */
export const RECORDED_FIELDS = [
  'firstName', 'middleName', 'lastName', 'preferredFirstName', 'preferredMiddleName', 'preferredLastName', 'title',
  'jobDescription', 'campus', 'userGroup', 'preferredLanguage', 'expiryDate', 'purgeDate', 'resourceSharingLibraries',
  'catalogerLevel', 'recordType',
] as const;

/** A field's value as history shows it: lists joined, empty as null. */
export const historyText = (value: unknown): string | null =>
  value === null || value === undefined ? null : Array.isArray(value) ? (value.length > 0 ? value.join(', ') : null) : String(value);
