import { badInput, conflict } from '../common/errors';
import { identifierGivenTwice } from '../identifiers/identifier-conflict';
import { isProtectedAccount } from '../policy/protected-accounts';
import type { Institution, RecordType } from '../db/entities';
import type { AddressInput, CreateUserInput, EmailInput, IdentifierInput, PhoneInput } from '../generated/graphql';

/**
 * The synchronous rules of R1, R2 and R1.7 for a new user. Each refusal names
 * the input field (`extensions.field`) so a form can point at it. Rules that
 * need the database (configured codes, identifiers already taken) live in the
 * service.
 */

const CONTACT_TYPES = {
  email: ['PERSONAL', 'WORK', 'SCHOOL', 'ALTERNATIVE'],
  address: ['HOME', 'WORK', 'SCHOOL', 'ALTERNATIVE'],
  phone: ['HOME', 'MOBILE', 'OFFICE', 'OFFICE_FAX'],
};
const VENDOR_CONTACT_TYPES = {
  email: ['ORDER', 'PAYMENT', 'CLAIM', 'RETURNS', 'QUERIES'],
  address: ['ORDER', 'PAYMENT', 'CLAIM', 'RETURNS', 'SHIPPING', 'BILLING'],
  phone: ['ORDER', 'PAYMENT', 'CLAIM', 'RETURNS'],
};

export const trimmed = (value: string | null | undefined): string | null => {
  const t = value?.trim();
  return t ? t : null;
};

function matches(pattern: string | null, value: string): boolean {
  return pattern === null || new RegExp(pattern).test(value);
}

/** R1.4: at least 8 characters, not containing the primary identifier. */
export function passwordProblem(password: string, primaryIdentifier: string | null): string | null {
  if (password.length < 8) return 'The password must have at least 8 characters';
  if (primaryIdentifier && password.toLowerCase().includes(primaryIdentifier.toLowerCase())) {
    return 'The password must not contain the primary identifier';
  }
  return null;
}

function checkDates(field: string, item: { startDate?: string | null; endDate?: string | null }): void {
  if (item.startDate && item.endDate && item.startDate > item.endDate) throw badInput(`${field}.endDate`, 'The end date is before the start date');
}

/** At most one preferred item per kind; when none is marked, the first one is preferred. */
function withOnePreferred<T extends { preferred?: boolean | null }>(field: string, items: T[]): (T & { preferred: boolean })[] {
  const marked = items.filter((i) => i.preferred).length;
  if (marked > 1) throw badInput(field, 'At most one item may be preferred');
  return items.map((item, i) => ({ ...item, preferred: marked === 0 ? i === 0 : !!item.preferred }));
}

export type ContactKind = keyof typeof CONTACT_TYPES;

/** R1.7: the email, address or phone types a record type may use (vendor contacts have their own). */
export function contactTypes(kind: ContactKind, recordType: RecordType): string[] {
  return (recordType === 'CONTACT' ? VENDOR_CONTACT_TYPES : CONTACT_TYPES)[kind];
}

/*
 * The per-item checks below take the item's input path as `field`:
 * `input.emails[0]` inside createUser, `input` when one item is added or
 * edited on its own, so both name the same offending value.
 */

export function checkContactType(field: string, type: string, allowed: string[]): void {
  if (!allowed.includes(type)) throw badInput(`${field}.type`, `Type must be one of ${allowed.join(', ')}`);
}

/** R1.7: how two emails of one user compare: an address is held once, whatever its case or type. */
export const emailKey = (email: { address: string }): string => email.address.trim().toLowerCase();

/** The refusal of an email the user holds already (`given twice` within one createUser). */
export function emailTaken(field: string, address: string, givenTwice: boolean) {
  const message = givenTwice ? `Email ${address.trim()} is given twice` : `Email ${address.trim()} already belongs to this user`;
  return conflict(message, { field, value: address.trim() });
}

function checkEmailsOnce(emails: EmailInput[], path: string): void {
  const seen = new Set<string>();
  emails.forEach((email, i) => {
    if (seen.has(emailKey(email))) throw emailTaken(`${path}.emails[${i}].address`, email.address, true);
    seen.add(emailKey(email));
  });
}

export function checkEmail(field: string, e: EmailInput, institution: Institution): void {
  checkDates(field, e);
  if (!matches(institution.emailRegex, e.address)) throw badInput(`${field}.address`, "The email does not match the institution's format");
}

export function checkAddress(field: string, a: AddressInput, institution: Institution): void {
  checkDates(field, a);
  if (!trimmed(a.line1)) throw badInput(`${field}.line1`, 'The first address line is required');
  if (a.postalCode && !matches(institution.postalCodeRegex, a.postalCode)) {
    throw badInput(`${field}.postalCode`, "The postal code does not match the institution's format");
  }
}

export function checkPhone(field: string, p: PhoneInput, institution: Institution): void {
  checkDates(field, p);
  if (!trimmed(p.number)) throw badInput(`${field}.number`, 'The phone number is required');
  if (!matches(institution.phoneRegex, p.number)) throw badInput(`${field}.number`, "The phone number does not match the institution's format");
}

/** Every item's type first, then each item's own checks, then the preferred flags. */
function validateItems<T extends { type: string; preferred?: boolean | null }>(
  field: string,
  items: T[],
  allowed: string[],
  check: (field: string, item: T) => void,
) {
  items.forEach((item, i) => checkContactType(`${field}[${i}]`, item.type, allowed));
  items.forEach((item, i) => check(`${field}[${i}]`, item));
  return withOnePreferred(field, items);
}

/**
 * R2.1, R1.7: the institution's primary identifier format. R4.5: the names of
 * protected vendor accounts are reserved: an account given one could never be
 * changed or removed again.
 */
export function checkPrimaryIdentifierFormat(field: string, value: string, institution: Institution): void {
  if (!matches(institution.primaryIdentifierRegex, value)) throw badInput(field, "The primary identifier does not match the institution's format");
  if (isProtectedAccount(value)) throw badInput(field, `"${value}" is the name of a protected vendor account (R4.5)`);
}

/** R2.2: an identifier with its type and value trimmed, both required. */
export function normalizeIdentifier<T extends IdentifierInput>(field: string, identifier: T): T {
  const normal = { ...identifier, type: identifier.type.trim(), value: identifier.value.trim() };
  if (!normal.type) throw badInput(`${field}.type`, 'The identifier type is required');
  if (!normal.value) throw badInput(`${field}.value`, 'The identifier value is required');
  return normal;
}

/** R2.2, R2.4: no value twice within the same user (the primary compared case-insensitively). `path` is the user's input path. */
export function validateIdentifiers(identifiers: readonly IdentifierInput[], primaryIdentifier: string | null, path: string) {
  const seen = new Set<string>();
  return identifiers.map((given, i) => {
    const field = `${path}.identifiers[${i}]`;
    const identifier = normalizeIdentifier(field, given);
    const clashesWithPrimary = primaryIdentifier !== null && identifier.value.toLowerCase() === primaryIdentifier.toLowerCase();
    if (seen.has(identifier.value) || clashesWithPrimary) throw identifierGivenTwice(`${field}.value`, identifier.type, identifier.value, clashesWithPrimary);
    seen.add(identifier.value);
    return identifier;
  });
}

function validateNames(input: CreateUserInput, isContact: boolean) {
  const names = {
    firstName: trimmed(input.firstName),
    middleName: trimmed(input.middleName),
    lastName: trimmed(input.lastName),
    preferredFirstName: trimmed(input.preferredFirstName),
    preferredMiddleName: trimmed(input.preferredMiddleName),
    preferredLastName: trimmed(input.preferredLastName),
  };
  if (!isContact) {
    if (!names.firstName) throw badInput('input.firstName', 'The first name is required (R1.3)');
    if (!names.lastName) throw badInput('input.lastName', 'The last name is required (R1.3)');
  }
  return names;
}

/** Refuses what a vendor contact may not have (R1.1). */
function checkContactRestrictions(input: CreateUserInput): void {
  const forbiddenForContacts: [keyof CreateUserInput, string][] = [
    ['identifiers', 'identifiers'],
    ['userGroup', 'a user group'],
    ['password', 'a password'],
    ['pinNumber', 'a PIN'],
  ];
  for (const [field, what] of forbiddenForContacts) {
    const value = input[field];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0)) {
      throw badInput(`input.${field}`, `Contact records cannot have ${what} (R1.1)`);
    }
  }
}

/** R1.4: a PIN is exactly four digits (createUser, setUserPin). */
export function checkPin(pin: string | null | undefined, field: string): void {
  if (pin != null && !/^\d{4}$/.test(pin)) throw badInput(field, 'The PIN must be exactly four digits');
}

/** R1.4: the formats of the web site and the birth date (createUser and updateUser). */
export function checkGeneralFields(input: { websiteUrl?: string | null; birthDate?: string | null }, path = 'input'): void {
  if (input.websiteUrl != null && !/^https?:\/\/\S+$/i.test(input.websiteUrl)) throw badInput(`${path}.websiteUrl`, 'The web site must be an http(s) URL');
  if (input.birthDate && input.birthDate > new Date().toISOString().slice(0, 10)) throw badInput(`${path}.birthDate`, 'The birth date is in the future');
}

/**
 * R1.2, R3.2: an EXTERNAL account names the external system that owns its
 * record (the SIS's code; toggleAccountType sets SIS_temp); an account
 * managed here has none.
 */
function checkExternalOwner(accountType: string, given: string | null | undefined): string | null {
  const owner = trimmed(given);
  if (accountType === 'EXTERNAL' && owner === null) {
    throw badInput('input.externalOwner', 'An EXTERNAL account needs the code of the external system (e.g. the SIS) that owns its record (R1.2)');
  }
  if (accountType !== 'EXTERNAL' && owner !== null) {
    throw badInput('input.externalOwner', `A ${accountType} account is managed here: only an EXTERNAL account has an external owner (R1.2)`);
  }
  return owner;
}

/** A list of codes as stored: trimmed, blanks dropped, each once, in the order given (library codes, patron letters). */
export const codeList = (codes: readonly string[] | null | undefined): string[] => [...new Set((codes ?? []).map((c) => c.trim()).filter(Boolean))];

function checkAccountFields(input: CreateUserInput, institution: Institution, primaryIdentifier: string | null): void {
  if (primaryIdentifier !== null) checkPrimaryIdentifierFormat('input.primaryIdentifier', primaryIdentifier, institution);
  checkPin(input.pinNumber, 'input.pinNumber');
  checkGeneralFields(input);
  if (input.password != null) {
    if ((input.accountType ?? 'INTERNAL') !== 'INTERNAL') throw badInput('input.password', 'Only internal accounts have a password');
    const problem = passwordProblem(input.password, primaryIdentifier);
    if (problem) throw badInput('input.password', problem);
  }
}

/** The validated, normalised new user: what the service writes. */
export function validateNewUser(input: CreateUserInput, institution: Institution) {
  const recordType = input.recordType;
  const isContact = recordType === 'CONTACT';
  const primaryIdentifier = trimmed(input.primaryIdentifier);
  if (isContact) checkContactRestrictions(input);
  else if (!primaryIdentifier) throw badInput('input.primaryIdentifier', 'A primary identifier is required (R2.1)');
  checkAccountFields(input, institution, primaryIdentifier);
  const emails = input.emails ?? [];
  if (institution.emailRequired && emails.length === 0) throw badInput('input.emails', 'At least one email is required (R1.7)');
  const accountType = input.accountType ?? 'INTERNAL';
  const draft = {
    recordType,
    accountType,
    externalOwner: checkExternalOwner(accountType, input.externalOwner),
    primaryIdentifier,
    ...validateNames(input, isContact),
    identifiers: validateIdentifiers(input.identifiers ?? [], primaryIdentifier, 'input'),
    ...validateContactItems(input, recordType, institution, 'input'),
    resourceSharingLibraries: codeList(input.resourceSharingLibraries),
    purchaseRequestLibraries: codeList(input.purchaseRequestLibraries),
    patronLetters: codeList(input.patronLetters),
  };
  return draft;
}

/** R1.7: a new user's emails, addresses and phones (createUser, SIS records); `path` is the user's input path. */
export function validateContactItems(
  input: { emails?: EmailInput[] | null; addresses?: AddressInput[] | null; phones?: PhoneInput[] | null },
  recordType: RecordType,
  institution: Institution,
  path: string,
) {
  const items = {
    emails: validateItems(`${path}.emails`, input.emails ?? [], contactTypes('email', recordType), (f, e) => checkEmail(f, e, institution)),
    addresses: validateItems(`${path}.addresses`, input.addresses ?? [], contactTypes('address', recordType), (f, a) => checkAddress(f, a, institution)),
    phones: validateItems(`${path}.phones`, input.phones ?? [], contactTypes('phone', recordType), (f, p) => checkPhone(f, p, institution)),
  };
  checkEmailsOnce(items.emails, path);
  return items;
}

export type NewUserDraft = ReturnType<typeof validateNewUser>;
