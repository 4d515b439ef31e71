import { badInput } from '../common/errors';
import type { User } from '../db/entities';
import type { UpdateUserInput } from '../generated/graphql';
import { KEPT_FIELD_ORDER, keptFieldsAfterEdit, sameValue } from './kept-fields';
import { checkGeneralFields, codeList, trimmed } from './user.validation';

/**
 * The synchronous rules of updateUser: the same as createUser's for the
 * fields it touches (R1.3 names, web site, birth date, R1.1 contacts), plus what only an edit has: which fields may be
 * cleared, the record type switch, and R3.3 (the SIS owns most fields of an
 * external user). Configured codes need the database: the service checks them.
 */

type Kind = 'name' | 'text' | 'date' | 'list' | 'flag' | 'enum' | 'kept';
type Field = keyof UpdateUserInput;

/** Each input field, the column it writes and how its value is normalised. */
const FIELDS: Record<Field, { column: keyof User; kind: Kind }> = {
  firstName: { column: 'firstName', kind: 'name' },
  middleName: { column: 'middleName', kind: 'text' },
  lastName: { column: 'lastName', kind: 'name' },
  preferredFirstName: { column: 'preferredFirstName', kind: 'text' },
  preferredMiddleName: { column: 'preferredMiddleName', kind: 'text' },
  preferredLastName: { column: 'preferredLastName', kind: 'text' },
  title: { column: 'title', kind: 'text' },
  jobCategory: { column: 'jobCategory', kind: 'text' },
  jobDescription: { column: 'jobDescription', kind: 'text' },
  gender: { column: 'gender', kind: 'enum' },
  userGroup: { column: 'userGroup', kind: 'text' },
  campus: { column: 'campus', kind: 'text' },
  websiteUrl: { column: 'websiteUrl', kind: 'text' },
  preferredLanguage: { column: 'preferredLanguage', kind: 'text' },
  birthDate: { column: 'birthDate', kind: 'date' },
  expiryDate: { column: 'expiryDate', kind: 'date' },
  purgeDate: { column: 'purgeDate', kind: 'date' },
  lastPatronActivityDate: { column: 'lastPatronActivityDate', kind: 'date' },
  resourceSharingLibraries: { column: 'resourceSharingLibraries', kind: 'list' },
  purchaseRequestLibraries: { column: 'purchaseRequestLibraries', kind: 'list' },
  catalogerLevel: { column: 'catalogerLevel', kind: 'text' },
  patronLetters: { column: 'patronLetters', kind: 'list' },
  recordType: { column: 'recordType', kind: 'enum' },
  forcePasswordChange: { column: 'forcePasswordChange', kind: 'flag' },
  restricted: { column: 'isRestricted', kind: 'flag' },
  mfaEnabled: { column: 'mfaEnabled', kind: 'flag' },
  keptFields: { column: 'keptFields', kind: 'kept' },
};

/** Fields that must keep a value: an explicit null is refused. */
const NOT_CLEARABLE: ReadonlySet<Field> = new Set(['recordType', 'forcePasswordChange', 'restricted', 'mfaEnabled']);

/**
 * R3.3: the general fields staff may change on an EXTERNAL account; the SIS
 * owns the rest. The seed names the fields whose manual value can be kept
 * from the SIS (KeptField) and the preferred names; the dates and flags are
 * local administration the SIS does not send.
 */
export const EXTERNAL_EDITABLE: ReadonlySet<keyof UpdateUserInput> = new Set<keyof UpdateUserInput>([
  'preferredFirstName', 'preferredMiddleName', 'preferredLastName', 'title', 'preferredLanguage', 'jobCategory',
  'userGroup', 'campus', 'catalogerLevel', 'patronLetters', 'resourceSharingLibraries', 'purchaseRequestLibraries',
  'expiryDate', 'purgeDate', 'restricted', 'forcePasswordChange', 'keptFields',
]);

type Value = string | boolean | string[] | null;

function normalise(kind: Kind, value: unknown): Value {
  switch (kind) {
    case 'name':
    case 'text':
      return trimmed(value as string | null);
    case 'list':
      return codeList(value as string[] | null);
    case 'kept':
      return KEPT_FIELD_ORDER.filter((f) => ((value as string[] | null) ?? []).includes(f));
    default:
      return (value as Value) ?? null;
  }
}

/** What updateUser writes: changed columns by input field. */
export interface UserUpdatePlan {
  changes: Partial<Record<Field, Value>>;
}

/**
 * Fields that decide how the user signs in. Changing them is a change of the
 * user's access: the service puts it to the subset rule, like a password.
 */
export const SIGN_IN_FIELDS: readonly Field[] = ['forcePasswordChange', 'mfaEnabled'];

function checkRecordType(user: User, next: Value): void {
  if (next === user.recordType) return;
  if (next === 'CONTACT' || user.recordType === 'CONTACT') {
    throw badInput('input.recordType', 'A record switches between PUBLIC and STAFF only: it never becomes or stops being a CONTACT (R1.1)');
  }
}

function checkContact(user: User, changes: UserUpdatePlan['changes']): void {
  if (user.recordType === 'CONTACT' && changes.userGroup != null) throw badInput('input.userGroup', 'Contact records cannot have a user group (R1.1)');
}

/**
 * Checks the input against the user as it is and returns only what changes.
 * A field sent with its current value is no change: a form may send every
 * field, and R3.3 refuses changing the SIS's fields, not repeating them.
 */
export function planUserUpdate(input: UpdateUserInput, user: User): UserUpdatePlan {
  const changes: UserUpdatePlan['changes'] = {};
  for (const field of Object.keys(FIELDS) as Field[]) {
    if (input[field] === undefined) continue;
    const { column, kind } = FIELDS[field];
    if (input[field] === null && NOT_CLEARABLE.has(field)) throw badInput(`input.${field}`, `${field} cannot be cleared`);
    const next = normalise(kind, input[field]);
    if (kind === 'name' && next === null && user.recordType !== 'CONTACT') throw badInput(`input.${field}`, `The ${field === 'firstName' ? 'first' : 'last'} name is required (R1.3)`);
    if (!sameValue(next, user[column])) changes[field] = next;
  }
  if (user.accountType === 'EXTERNAL') {
    const owned = Object.keys(changes).find((f) => !EXTERNAL_EDITABLE.has(f as Field));
    if (owned) throw badInput(`input.${owned}`, `The SIS owns ${owned} of an external user: only some general fields are editable here (R3.3)`);
  }
  if (input.keptFields === undefined) {
    const kept = keptFieldsAfterEdit(user, changes);
    if (kept) changes.keptFields = kept;
  }
  if (changes.recordType !== undefined) checkRecordType(user, changes.recordType);
  checkContact(user, changes);
  checkGeneralFields({
    websiteUrl: changes.websiteUrl as string | null | undefined,
    birthDate: changes.birthDate as string | null | undefined,
  });
  return { changes };
}
