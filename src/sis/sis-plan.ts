import { createHash } from 'node:crypto';
import { badInput, conflict } from '../common/errors';
import type { FieldChange } from '../history/record-change';
import { secretChange } from '../history/record-change';
import { historyText, KEPT_FIELD_ORDER, KEPT_FIELD_PROPERTY, RECORDED_FIELDS, sameValue } from '../users/kept-fields';
import type { SisFields, SisRecord } from './sis-record';
import type { HeldValue, ItemKind, ReferenceCodes, StoredItems, StoredUser, UserRow } from './sis-sync.repository';
import { ITEM_KINDS } from './sis-sync.repository';

/**
 * What one SIS record does to the database (R3.3, R3.4), decided from the
 * batch's loaded state without any SQL: create, update (which fields and
 * which kinds of item), or nothing. Refusals are thrown per record.
 */

export interface ItemChange {
  kind: ItemKind;
  items: Record<string, unknown>[];
  oldText: string | null;
  newText: string | null;
}

export interface RecordPlan {
  record: SisRecord;
  /** The matched user; undefined for a new one. */
  user?: StoredUser;
  /** The row as it will be stored (kept fields as staff set them). */
  row: UserRow;
  /** Changed general fields (property names), with their history where R9.1 records them. */
  changedFields: string[];
  history: FieldChange[];
  items: ItemChange[];
  /** Nothing anyone sees changes, but the SIS's values or the record's digest are not the stored ones: remembered silently. */
  remember: boolean;
  claimed: boolean;
}

/** The configured codes a record refers to must exist (R1.4): the same as createUser checks. */
export function checkRecordCodes(record: SisRecord, reference: ReferenceCodes): void {
  const { fields, items, path } = record;
  const configured = (kind: string, field: string, code: string | null) => {
    if (code !== null && !reference.codes.get(kind)?.has(code)) {
      throw badInput(`${path}.${field}`, `"${code}" is not a configured ${kind.toLowerCase().replace(/_/g, ' ')}`);
    }
  };
  configured('USER_GROUP', 'userGroup', fields.userGroup);
  configured('JOB_CATEGORY', 'jobCategory', fields.jobCategory);
  configured('CAMPUS', 'campus', fields.campus);
  for (const list of ['resourceSharingLibraries', 'purchaseRequestLibraries'] as const) {
    const index = fields[list].findIndex((code) => !reference.libraries.has(code));
    if (index >= 0) throw badInput(`${path}.${list}[${index}]`, `Library ${fields[list][index]} is not a library of your institution`);
  }
  items.identifiers.forEach((i, n) => configured('IDENTIFIER_TYPE', `identifiers[${n}].type`, i.type));
  items.notes.forEach((note, n) => configured('NOTE_TYPE', `notes[${n}].type`, note.type === 'GENERAL' ? null : note.type));
  items.statistics.forEach((s, n) => configured('STATISTIC_CATEGORY', `statistics[${n}].category`, s.category));
}

/** The SIS's values of the keepable fields, as `app_user.sis_values` holds them. */
const sisValuesOf = (fields: SisFields): Record<string, unknown> =>
  Object.fromEntries(KEPT_FIELD_ORDER.map((f) => [KEPT_FIELD_PROPERTY[f], fields[KEPT_FIELD_PROPERTY[f]]]));

/** How an item reads in history and compares: its values in a fixed order. */
const ITEM_TEXT: Record<ItemKind, (i: any) => string> = {
  identifiers: (i) => `${i.type} ${i.value}${i.note ? ` (${i.note})` : ''}`,
  emails: (i) => `${i.type}:${i.address}${i.preferred ? ' (preferred)' : ''}`,
  addresses: (i) => `${i.type}:${[i.line1, i.line2, i.line3, i.city, i.stateProvince, i.postalCode, i.country].filter(Boolean).join(', ')}${i.preferred ? ' (preferred)' : ''}`,
  phones: (i) => `${i.type}:${i.number}${i.preferred ? ' (preferred)' : ''}`,
  notes: (i) => `${i.type}: ${i.text}`,
  statistics: (i) => `${i.categoryType}:${i.category}`,
};

/** Every value of an item, in a fixed order, so a stored item and a sent one compare equal exactly when nothing differs. */
const ITEM_KEYS: Record<ItemKind, readonly string[]> = {
  identifiers: ['type', 'value', 'note'],
  emails: ['address', 'type', 'description', 'preferred', 'startDate', 'endDate'],
  addresses: ['type', 'line1', 'line2', 'line3', 'city', 'stateProvince', 'postalCode', 'country', 'note', 'preferred', 'startDate', 'endDate'],
  phones: ['number', 'type', 'preferred', 'startDate', 'endDate'],
  notes: ['type', 'text', 'popup', 'userViewable'],
  statistics: ['categoryType', 'category', 'note'],
};
const itemKey = (kind: ItemKind, item: Record<string, unknown>) => JSON.stringify(ITEM_KEYS[kind].map((k) => item[k] ?? null));
const sameItems = (kind: ItemKind, a: Record<string, unknown>[], b: Record<string, unknown>[]) =>
  sameValue(a.map((i) => itemKey(kind, i)).sort(), b.map((i) => itemKey(kind, i)).sort());

/** Kinds that hold one preferred item per user: the SIS's preferred flag yields to one staff set on an internal item. */
const PREFERRED_KINDS: ReadonlySet<ItemKind> = new Set(['emails', 'addresses', 'phones']);
/** Kinds whose internal item with the value the SIS sends becomes the SIS's (R2.2 forbids holding it twice). */
const CONVERTED: Partial<Record<ItemKind, (i: any) => string>> = { identifiers: (i) => i.value, emails: (i) => i.address.toLowerCase() };

/** Who holds each identifier value the batch asked about, by HeldValue.key, so each record's check costs the same whatever the batch's size. */
export type HeldValues = Map<string, HeldValue[]>;

export function indexHeldValues(held: HeldValue[]): HeldValues {
  const byKey: HeldValues = new Map();
  for (const h of held) (byKey.get(h.key) ?? byKey.set(h.key, []).get(h.key)!).push(h);
  return byKey;
}

function planItems(record: SisRecord, stored: StoredItems | undefined): ItemChange[] {
  const changes: ItemChange[] = [];
  for (const kind of ITEM_KINDS) {
    const mine = (stored?.[kind] ?? []) as unknown as (Record<string, unknown> & { external: boolean })[];
    const internal = mine.filter((i) => !i.external);
    const external = mine.filter((i) => i.external);
    const internalPreferred = PREFERRED_KINDS.has(kind) && internal.some((i) => i.preferred);
    const wanted = (record.items[kind] as unknown as Record<string, unknown>[])
      .map((i) => (internalPreferred ? { ...i, preferred: false } : i));
    const key = CONVERTED[kind];
    const converts = key ? internal.some((i) => wanted.some((w) => key(w) === key(i))) : false;
    if (!converts && sameItems(kind, wanted, external)) continue;
    const text = (items: Record<string, unknown>[]) => (items.length > 0 ? items.map(ITEM_TEXT[kind]).join('; ') : null);
    changes.push({ kind, items: wanted, oldText: text(external), newText: text(wanted) });
  }
  return changes;
}

/** R2.2, R2.4: the record's identifiers must not be held by another user (`own` is the matched user's id). */
function checkHeldValues(record: SisRecord, own: string | undefined, held: HeldValues): void {
  const other = (h: HeldValue) => h.userId !== own;
  const lower = record.primaryIdentifier.toLowerCase();
  const primary = held.get(lower)?.find((h) => other(h) && h.caseInsensitive);
  if (primary) {
    throw conflict(`Primary identifier ${record.primaryIdentifier} already belongs to another user${primary.heldAs ? ` (as ${primary.heldAs})` : ''}`,
      { field: `${record.path}.primaryIdentifier`, value: record.primaryIdentifier });
  }
  record.items.identifiers.forEach((identifier, i) => {
    const taken = held.get(identifier.value)?.find((h) => other(h) && !h.caseInsensitive)
      ?? held.get(identifier.value.toLowerCase())?.find((h) => other(h) && h.caseInsensitive && h.heldAs === null);
    if (taken) {
      throw conflict(`Identifier ${identifier.type} ${identifier.value} already belongs to another user`,
        { field: `${record.path}.identifiers[${i}].value`, value: identifier.value });
    }
  });
}

/** A new user: everything the SIS sent. */
export function planCreate(record: SisRecord, sisHash: string, held: HeldValues): RecordPlan {
  checkHeldValues(record, undefined, held);
  return {
    record,
    row: { ...record.fields, primaryIdentifier: record.primaryIdentifier, sisValues: sisValuesOf(record.fields), sisHash },
    changedFields: [],
    history: [],
    items: planItems(record, undefined),
    remember: false,
    claimed: false,
  };
}

/**
 * A matched EXTERNAL user: every SIS field replaced except the kept ones,
 * which keep staff's value while the SIS's is remembered; the owner becomes
 * the SIS's when staff had marked the account SIS_temp (R3.2).
 */
export function planUpdate(record: SisRecord, sisHash: string, user: StoredUser, held: HeldValues, owner: string): RecordPlan {
  const claim = user.externalOwner !== owner;
  checkHeldValues(record, user.id, held);
  const kept = new Set(user.keptFields.filter((f) => f in KEPT_FIELD_PROPERTY).map((f) => KEPT_FIELD_PROPERTY[f as keyof typeof KEPT_FIELD_PROPERTY] as string));
  const fields = { ...record.fields };
  for (const property of kept) (fields as Record<string, unknown>)[property] = user[property as keyof SisFields];
  const changedFields = (Object.keys(fields) as (keyof SisFields)[]).filter((f) => !sameValue(fields[f], user[f]));
  if (record.primaryIdentifier !== user.primaryIdentifier) changedFields.push('primaryIdentifier' as keyof SisFields);
  const history: FieldChange[] = [
    ...(record.primaryIdentifier !== user.primaryIdentifier ? [{ field: 'primaryIdentifier', oldValue: user.primaryIdentifier, newValue: record.primaryIdentifier }] : []),
    ...RECORDED_FIELDS.filter((f) => changedFields.includes(f)).map((f) => ({ field: f, oldValue: historyText(user[f]), newValue: historyText(fields[f]) })),
    ...(changedFields.includes('pinNumber') ? [secretChange('pinNumber', fields.pinNumber)] : []),
    ...(changedFields.includes('status') ? [{ field: 'status', oldValue: user.status, newValue: fields.status }] : []),
    ...(claim ? [{ field: 'externalOwner', oldValue: user.externalOwner, newValue: owner }] : []),
  ];
  const itemChanges = planItems(record, user.items);
  const sisValues = sisValuesOf(record.fields);
  const changed = changedFields.length > 0 || itemChanges.length > 0 || claim;
  return {
    record,
    user,
    row: { ...fields, primaryIdentifier: record.primaryIdentifier, sisValues, sisHash },
    changedFields,
    history,
    items: itemChanges,
    // Only users whose record was not the last one applied, or who changed since, get here: remember this record.
    remember: !changed,
    claimed: claim,
  };
}

/**
 * The digest of what a record asks for (R3.4): its primary identifier, fields
 * and items as read (in a fixed key order), stored with the user when applied
 * (`app_user.sis_hash`). Items sent in another order give another digest: that
 * record is then compared field by field, finds nothing to change, and its
 * digest is remembered.
 */
export function recordHash(record: SisRecord): string {
  return createHash('sha256').update(JSON.stringify([record.primaryIdentifier, record.fields, record.items])).digest('base64url');
}

/** Whether the plan writes anything a user of the API would see. */
export const isChange = (plan: RecordPlan): boolean =>
  plan.user === undefined || plan.changedFields.length > 0 || plan.items.length > 0 || plan.claimed;
