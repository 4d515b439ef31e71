import { compact } from './source-record';

/**
 * One <user> of Alma's user XML (the SIS integration's files and the REST
 * API's rest_user.xsd) as an ExternalUserInput-shaped record. Only the SIS's
 * data is read: list items with `segment_type="Internal"` are Alma's own and
 * are skipped. Code elements may carry a `desc` attribute, which is ignored.
 *
 * Elements Carrel has no field for are ignored: user_roles, user_blocks,
 * proxy_for_users, account_type, external_id, password,
 * force_password_change, full_name, pref_name_suffix, status_date,
 * is_researcher, researcher, library_notices, linking_id,
 * source_institution_code, source_link_id, the phones' preferred_sms and the
 * identifiers' status. Alma keeps several types per email, phone or address;
 * Carrel one, so the first is taken.
 */

/** An element of one <user>: enough of the tree to map it, built while streaming. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** A value that makes the <user> unreadable (an unparseable date). */
export class AlmaValueError extends Error {}

const TEXT_FIELDS = new Map<string, string>([
  ['record_type', 'recordType'], ['primary_id', 'primaryIdentifier'], ['first_name', 'firstName'], ['middle_name', 'middleName'],
  ['last_name', 'lastName'], ['pref_first_name', 'preferredFirstName'], ['pref_middle_name', 'preferredMiddleName'],
  ['pref_last_name', 'preferredLastName'], ['user_title', 'title'], ['pin_number', 'pinNumber'], ['job_category', 'jobCategory'],
  ['job_description', 'jobDescription'], ['gender', 'gender'], ['user_group', 'userGroup'], ['campus_code', 'campus'],
  ['web_site_url', 'websiteUrl'], ['preferred_language', 'preferredLanguage'], ['status', 'status'], ['cataloger_level', 'catalogerLevel'],
]);

const DATE_FIELDS = new Map<string, string>([['birth_date', 'birthDate'], ['expiry_date', 'expiryDate'], ['purge_date', 'purgeDate']]);

export function almaUserRecord(user: XmlElement): Record<string, unknown> {
  const contact = child(user, 'contact_info');
  return compact({
    ...userFields(user),
    resourceSharingLibraries: nonEmpty(items(user, 'rs_libraries', 'rs_library').map((library) => text(library, 'code')).filter((code) => code !== undefined)),
    emails: nonEmpty(externalItems(contact, 'emails', 'email').map(email)),
    addresses: nonEmpty(externalItems(contact, 'addresses', 'address').map(address)),
    phones: nonEmpty(externalItems(contact, 'phones', 'phone').map(phone)),
    identifiers: nonEmpty(externalItems(user, 'user_identifiers', 'user_identifier').map(identifier)),
    statistics: nonEmpty(externalItems(user, 'user_statistics', 'user_statistic').map(statistic)),
    notes: nonEmpty(externalItems(user, 'user_notes', 'user_note').map(note)),
  });
}

/** The user's own text and date elements, in one pass over its children (a file holds many users); the first of a name counts. */
function userFields(user: XmlElement): Record<string, string | undefined> {
  const fields: Record<string, string | undefined> = {};
  for (const element of user.children) {
    const field = TEXT_FIELDS.get(element.name) ?? DATE_FIELDS.get(element.name);
    if (field === undefined || field in fields) continue;
    fields[field] = DATE_FIELDS.has(element.name) ? dateValue(element) : textValue(element);
  }
  return fields;
}

const email = (e: XmlElement) => compact({
  address: text(e, 'email_address'),
  type: firstType(e, 'email_types', 'email_type'),
  description: text(e, 'description'),
  preferred: flag(e, 'preferred'),
});

const phone = (p: XmlElement) => compact({
  number: text(p, 'phone_number'),
  type: firstType(p, 'phone_types', 'phone_type'),
  preferred: flag(p, 'preferred'),
});

/** Carrel has three address lines: Alma's fourth and fifth are joined into the third. */
const address = (a: XmlElement) => compact({
  type: firstType(a, 'address_types', 'address_type'),
  line1: text(a, 'line1'),
  line2: text(a, 'line2'),
  line3: nonEmpty(['line3', 'line4', 'line5'].map((line) => text(a, line)).filter((line) => line !== undefined))?.join(', '),
  city: text(a, 'city'),
  stateProvince: text(a, 'state_province'),
  postalCode: text(a, 'postal_code'),
  country: text(a, 'country'),
  note: text(a, 'address_note'),
  preferred: flag(a, 'preferred'),
  startDate: date(a, 'start_date'),
  endDate: date(a, 'end_date'),
});

const identifier = (i: XmlElement) => compact({ type: text(i, 'id_type'), value: text(i, 'value'), note: text(i, 'note') });

const statistic = (s: XmlElement) => compact({
  categoryType: text(s, 'category_type'),
  category: text(s, 'statistic_category'),
  note: text(s, 'statistic_note'),
});

const note = (n: XmlElement) => compact({
  type: text(n, 'note_type'),
  text: text(n, 'note_text'),
  popup: flag(n, 'popup_note'),
  userViewable: flag(n, 'user_viewable'),
});

function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name === name);
}

function items(element: XmlElement | undefined, list: string, item: string): XmlElement[] {
  return child(element, list)?.children.filter((c) => c.name === item) ?? [];
}

/** The SIS's items: those marked External, or not marked at all (Internal ones are Alma's own). */
function externalItems(element: XmlElement | undefined, list: string, item: string): XmlElement[] {
  return items(element, list, item).filter((i) => (i.attributes.segment_type ?? 'External').toLowerCase() === 'external');
}

/** A child's text, trimmed; an empty or missing element is an absent value. */
function text(element: XmlElement, name: string): string | undefined {
  const found = child(element, name);
  return found && textValue(found);
}

function textValue(element: XmlElement): string | undefined {
  const value = element.text.trim();
  return value ? value : undefined;
}

/** Alma writes dates as xs:date, often with a time zone (`2027-06-30Z`): Carrel's dates have none. */
function date(element: XmlElement, name: string): string | undefined {
  const found = child(element, name);
  return found && dateValue(found);
}

function dateValue(element: XmlElement): string | undefined {
  const value = textValue(element);
  if (value === undefined) return undefined;
  const day = /^(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?$/.exec(value)?.[1];
  if (day === undefined) throw new AlmaValueError(`<${element.name}> "${value}" is not a date (YYYY-MM-DD, optionally with a time zone)`);
  return day;
}

/** true/false attributes as booleans; anything else is passed on as written, for the GraphQL coercion to refuse. */
function flag(element: XmlElement, attribute: string): boolean | string | undefined {
  const value = element.attributes[attribute];
  const lower = value?.trim().toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : value;
}

/** Alma's type codes are lower or camel case (`home`, `officeFax`); Carrel's are upper snake case (`HOME`, `OFFICE_FAX`). */
function firstType(element: XmlElement, list: string, item: string): string | undefined {
  const code = items(element, list, item).map((type) => type.text.trim()).find((type) => type !== '');
  return code?.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function nonEmpty<T>(list: T[]): T[] | undefined {
  return list.length > 0 ? list : undefined;
}
