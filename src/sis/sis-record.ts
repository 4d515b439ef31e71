import { badInput } from '../common/errors';
import type { Institution, RecordType, UserStatus } from '../db/entities';
import type { ExternalUserInput, Gender } from '../generated/graphql';
import {
  checkGeneralFields, checkPin, checkPrimaryIdentifierFormat, codeList, trimmed, validateContactItems, validateIdentifiers,
} from '../users/user.validation';

/**
 * One SIS record checked and normalised into what Carrel stores (R3.4): the
 * same rules as createUser (names, formats, types, preferred flags, each
 * identifier once), with every refusal naming the record's path
 * (`records[3].emails[0].address`). Configured codes and identifiers taken by
 * other users need the database: the planner checks them for a whole batch.
 */

/** The general fields the SIS owns, as stored (app_user columns by entity property). */
export interface SisFields {
  recordType: RecordType;
  firstName: string;
  middleName: string | null;
  lastName: string;
  preferredFirstName: string | null;
  preferredMiddleName: string | null;
  preferredLastName: string | null;
  title: string | null;
  pinNumber: string | null;
  jobCategory: string | null;
  jobDescription: string | null;
  gender: Gender | null;
  userGroup: string | null;
  campus: string | null;
  websiteUrl: string | null;
  preferredLanguage: string | null;
  status: UserStatus;
  birthDate: string | null;
  expiryDate: string | null;
  purgeDate: string | null;
  resourceSharingLibraries: string[];
  purchaseRequestLibraries: string[];
  catalogerLevel: string | null;
  patronLetters: string[];
}

export interface SisIdentifier { type: string; value: string; note: string | null }
export interface SisEmail { address: string; type: string; description: string | null; preferred: boolean; startDate: string | null; endDate: string | null }
export interface SisAddress {
  type: string; line1: string; line2: string | null; line3: string | null; city: string | null; stateProvince: string | null;
  postalCode: string | null; country: string | null; note: string | null; preferred: boolean; startDate: string | null; endDate: string | null;
}
export interface SisPhone { number: string; type: string; preferred: boolean; startDate: string | null; endDate: string | null }
export interface SisNote { type: string; text: string; popup: boolean; userViewable: boolean }
export interface SisStatistic { categoryType: string; category: string; note: string | null }

/** The SIS's external items of a user, by kind. */
export interface SisItems {
  identifiers: SisIdentifier[];
  emails: SisEmail[];
  addresses: SisAddress[];
  phones: SisPhone[];
  notes: SisNote[];
  statistics: SisStatistic[];
}

export interface SisRecord {
  /** The record's position in the batch (0-based) and its input path, for refusals. */
  position: number;
  path: string;
  primaryIdentifier: string;
  fields: SisFields;
  items: SisItems;
}

function requiredName(path: string, field: 'firstName' | 'lastName', value: string): string {
  const name = trimmed(value);
  if (!name) throw badInput(`${path}.${field}`, `The ${field === 'firstName' ? 'first' : 'last'} name is required (R1.3)`);
  return name;
}

function checkRecordType(path: string, recordType: RecordType): RecordType {
  if (recordType === 'CONTACT') throw badInput(`${path}.recordType`, 'The SIS manages patrons and staff, never contacts (R1.1): PUBLIC or STAFF');
  return recordType;
}

function fieldsOf(input: ExternalUserInput, path: string): SisFields {
  checkPin(input.pinNumber, `${path}.pinNumber`);
  checkGeneralFields(input, path);
  return {
    recordType: checkRecordType(path, input.recordType ?? 'PUBLIC'),
    firstName: requiredName(path, 'firstName', input.firstName),
    middleName: trimmed(input.middleName),
    lastName: requiredName(path, 'lastName', input.lastName),
    preferredFirstName: trimmed(input.preferredFirstName),
    preferredMiddleName: trimmed(input.preferredMiddleName),
    preferredLastName: trimmed(input.preferredLastName),
    title: trimmed(input.title),
    pinNumber: input.pinNumber ?? null,
    jobCategory: trimmed(input.jobCategory),
    jobDescription: trimmed(input.jobDescription),
    gender: input.gender ?? null,
    userGroup: trimmed(input.userGroup),
    campus: trimmed(input.campus),
    websiteUrl: trimmed(input.websiteUrl),
    preferredLanguage: trimmed(input.preferredLanguage),
    status: input.status ?? 'ACTIVE',
    birthDate: input.birthDate ?? null,
    expiryDate: input.expiryDate ?? null,
    purgeDate: input.purgeDate ?? null,
    resourceSharingLibraries: codeList(input.resourceSharingLibraries),
    purchaseRequestLibraries: codeList(input.purchaseRequestLibraries),
    catalogerLevel: trimmed(input.catalogerLevel),
    patronLetters: codeList(input.patronLetters),
  };
}

function itemsOf(input: ExternalUserInput, path: string, primaryIdentifier: string, institution: Institution): SisItems {
  const contacts = validateContactItems(input, input.recordType ?? 'PUBLIC', institution, path);
  const dates = (item: { startDate?: string | null; endDate?: string | null }) => ({ startDate: item.startDate ?? null, endDate: item.endDate ?? null });
  return {
    identifiers: validateIdentifiers(input.identifiers ?? [], primaryIdentifier, path)
      .map((i) => ({ type: i.type, value: i.value, note: trimmed(i.note) })),
    emails: contacts.emails.map((e) => ({
      address: e.address.trim(), type: e.type, description: trimmed(e.description), preferred: e.preferred, ...dates(e),
    })),
    addresses: contacts.addresses.map((a) => ({
      type: a.type, line1: a.line1.trim(), line2: trimmed(a.line2), line3: trimmed(a.line3), city: trimmed(a.city),
      stateProvince: trimmed(a.stateProvince), postalCode: trimmed(a.postalCode), country: trimmed(a.country), note: trimmed(a.note),
      preferred: a.preferred, ...dates(a),
    })),
    phones: contacts.phones.map((p) => ({ number: p.number.trim(), type: p.type, preferred: p.preferred, ...dates(p) })),
    notes: (input.notes ?? []).map((n, i) => {
      const text = trimmed(n.text);
      if (!text) throw badInput(`${path}.notes[${i}].text`, 'The note text is required');
      return { type: trimmed(n.type) ?? 'GENERAL', text, popup: n.popup ?? false, userViewable: n.userViewable ?? false };
    }),
    statistics: (input.statistics ?? []).map((s) => ({ categoryType: s.categoryType.trim(), category: s.category.trim(), note: trimmed(s.note) })),
  };
}

/** Checks one record; throws the first refusal (a GraphQLError naming the field). */
export function readSisRecord(input: ExternalUserInput, position: number, institution: Institution): SisRecord {
  const path = `records[${position}]`;
  const primaryIdentifier = trimmed(input.primaryIdentifier);
  if (!primaryIdentifier) throw badInput(`${path}.primaryIdentifier`, 'A primary identifier is required (R2.1)');
  checkPrimaryIdentifierFormat(`${path}.primaryIdentifier`, primaryIdentifier, institution);
  return { position, path, primaryIdentifier, fields: fieldsOf(input, path), items: itemsOf(input, path, primaryIdentifier, institution) };
}

/** The record's identifier of the match type (IDENTIFIER_TYPE matching), or a refusal when it has none. */
export function matchValueOf(record: SisRecord, identifierType: string): string {
  const identifier = record.items.identifiers.find((i) => i.type === identifierType);
  if (!identifier) throw badInput(`${record.path}.identifiers`, `The record has no ${identifierType} identifier to match on`);
  return identifier.value;
}
