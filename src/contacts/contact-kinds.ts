import type { EntityTarget } from 'typeorm';
import { Institution, UserAddress, UserEmail, UserPhone } from '../db/entities';
import type { AddressInput, EmailInput, PhoneInput } from '../generated/graphql';
import { checkAddress, checkEmail, checkPhone, ContactKind, emailKey, emailTaken, trimmed } from '../users/user.validation';
import type { UserItemRow } from './user-item.repository';

/**
 * Emails, addresses and phones follow the same rules (R1.7, R3.3): this
 * table holds what differs between them, so the service is written once.
 */

/** What the three kinds of contact item have in common. */
export interface ContactRow extends UserItemRow {
  isPreferred: boolean;
  startDate: string | null;
  endDate: string | null;
}

/** What the three kinds of contact input have in common. */
export interface ContactInput {
  type: string;
  preferred?: boolean | null;
  startDate?: string | null;
  endDate?: string | null;
}

export interface ContactKindSpec<Row extends ContactRow, Input extends ContactInput> {
  kind: ContactKind;
  /** How messages name one item. */
  label: string;
  /** The history field (R9.1) and the user field that lists the items. */
  historyField: 'emails' | 'addresses' | 'phones';
  entity: EntityTarget<Row>;
  /** The kind's own R1.7 checks (dates, the institution's formats); `field` is the item's input path. */
  check(field: string, input: Input, institution: Institution): void;
  /**
   * For kinds a user holds each value of only once (emails): how two items
   * compare, and the refusal of an input that repeats an item of the user.
   */
  unique?: { key(item: Row | Input): string; taken(input: Input): Error };
  /** R1.7: the institution may make one email mandatory. */
  required?(institution: Institution): boolean;
  /** The columns an input sets (everything but the preferred and external flags). */
  columns(input: Input): Partial<Row>;
  /** The item as history shows it: type, value, and what else distinguishes it. */
  text(row: Row): string;
}

/** `TYPE:value (preferred; 2026-01-01 to 2026-12-31; note)`: readable, and different whenever the item changed. */
function itemText(type: string, value: string, row: ContactRow, note: string | null): string {
  const extras = [
    row.isPreferred ? 'preferred' : null,
    row.startDate || row.endDate ? `${row.startDate ?? '…'} to ${row.endDate ?? '…'}` : null,
    note,
  ].filter((e): e is string => !!e);
  return `${type}:${value}${extras.length > 0 ? ` (${extras.join('; ')})` : ''}`;
}

const dates = (input: ContactInput) => ({ startDate: input.startDate ?? null, endDate: input.endDate ?? null });

export const EMAIL: ContactKindSpec<UserEmail, EmailInput> = {
  kind: 'email',
  label: 'email',
  historyField: 'emails',
  entity: UserEmail,
  check: checkEmail,
  unique: { key: emailKey, taken: (input) => emailTaken('input.address', input.address, false) },
  required: (institution) => institution.emailRequired,
  columns: (input) => ({ address: input.address.trim(), emailType: input.type, description: trimmed(input.description), ...dates(input) }),
  text: (row) => itemText(row.emailType, row.address, row, row.description),
};

export const ADDRESS: ContactKindSpec<UserAddress, AddressInput> = {
  kind: 'address',
  label: 'address',
  historyField: 'addresses',
  entity: UserAddress,
  check: checkAddress,
  columns: (input) => ({
    addressType: input.type,
    line1: input.line1.trim(),
    line2: trimmed(input.line2),
    line3: trimmed(input.line3),
    city: trimmed(input.city),
    stateProvince: trimmed(input.stateProvince),
    postalCode: trimmed(input.postalCode),
    country: trimmed(input.country),
    note: trimmed(input.note),
    ...dates(input),
  }),
  text: (row) => {
    const lines = [row.line1, row.line2, row.line3, row.city, row.stateProvince, row.postalCode, row.country].filter((l): l is string => !!l);
    return itemText(row.addressType, lines.join(', '), row, row.note);
  },
};

export const PHONE: ContactKindSpec<UserPhone, PhoneInput> = {
  kind: 'phone',
  label: 'phone number',
  historyField: 'phones',
  entity: UserPhone,
  check: checkPhone,
  columns: (input) => ({ phoneNumber: input.number.trim(), phoneType: input.type, ...dates(input) }),
  text: (row) => itemText(row.phoneType, row.phoneNumber, row, null),
};
