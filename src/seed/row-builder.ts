import { randomUUID } from 'node:crypto';
import { emptyRows, Row } from './insert-rows';
import { money, SEED_ACTOR } from './values';

/** The three columns a role assignment or profile entry uses for its scope (R4.1). */
export interface Scope {
  scope_type: 'INSTITUTION' | 'LIBRARY' | 'CIRCULATION_DESK' | null;
  scope_library_id: string | null;
  scope_desk_id: string | null;
}

export const INSTITUTION_SCOPE: Scope = { scope_type: 'INSTITUTION', scope_library_id: null, scope_desk_id: null };
/** Only for a role saved inactive because it still lacks a scope (R4.3). */
export const NO_SCOPE: Scope = { scope_type: null, scope_library_id: null, scope_desk_id: null };

export function libraryScope(libraryId: string): Scope {
  return { scope_type: 'LIBRARY', scope_library_id: libraryId, scope_desk_id: null };
}

export function deskScope(libraryId: string, deskId: string): Scope {
  return { scope_type: 'CIRCULATION_DESK', scope_library_id: libraryId, scope_desk_id: deskId };
}

export interface FineSpec {
  type: string;
  cents: number;
  owner: string | null;
  vatCents?: number;
  status?: 'ACTIVE' | 'IN_DISPUTE';
  comment?: string | null;
  itemBarcode?: string | null;
}

export type RowBuilder = ReturnType<typeof createRowBuilder>;

/**
 * Accumulates the rows of one insert batch. Every helper sets all the NOT NULL
 * columns of its table, including those with defaults, because insertRows
 * writes a column that some rows leave out as NULL. Ids are generated here so
 * that child rows can point at their user before anything is inserted.
 */
export function createRowBuilder(institutionId: string, now = new Date(), rows = emptyRows()) {
  const owned = { institution_id: institutionId };

  return {
    rows,

    user(fields: Row<'app_user'>): string {
      const id = randomUUID();
      rows.app_user.push({
        id, ...owned, status: 'ACTIVE', status_date: now, is_restricted: false, cannot_edit_restricted_users: false,
        created_by: SEED_ACTOR, updated_by: SEED_ACTOR, ...fields,
      });
      return id;
    },

    identifier(userId: string, idType: string, value: string, isExternal = false): void {
      rows.user_identifier.push({ ...owned, user_id: userId, id_type: idType, value, note: null, is_external: isExternal });
    },

    email(userId: string, address: string, emailType: string, preferred: boolean, isExternal = false): void {
      rows.user_email.push({ ...owned, user_id: userId, address, email_type: emailType, is_preferred: preferred, is_external: isExternal });
    },

    phone(userId: string, phoneNumber: string, phoneType: string, preferred: boolean, isExternal = false): void {
      rows.user_phone.push({
        ...owned, user_id: userId, phone_number: phoneNumber, phone_type: phoneType, is_preferred: preferred, is_external: isExternal,
      });
    },

    address(userId: string, fields: Row<'user_address'>, preferred: boolean, isExternal = false): void {
      rows.user_address.push({ ...owned, user_id: userId, line2: null, ...fields, is_preferred: preferred, is_external: isExternal });
    },

    role(userId: string, roleType: string, scope: Scope): void {
      // A scope-less role can only be stored inactive (the role_assignment_scope_shape check).
      rows.role_assignment.push({
        ...owned, user_id: userId, role_type: roleType, ...scope, is_active: scope.scope_type !== null, created_by: SEED_ACTOR,
      });
    },

    /** A fine and its CREATE action (R7.7: the balance is the sum of the actions), plus DISPUTE when disputed. */
    fine(userId: string, f: FineSpec): void {
      const id = randomUUID();
      const amount = money(f.cents);
      const status = f.status ?? 'ACTIVE';
      rows.fine_fee.push({
        id, ...owned, user_id: userId, fine_type: f.type, owner_library_id: f.owner, original_amount: amount,
        remaining_amount: amount, vat_amount: money(f.vatCents ?? 0), status, disputed: status === 'IN_DISPUTE', comment: f.comment ?? null,
        item_barcode: f.itemBarcode ?? null, created_by: SEED_ACTOR,
      });
      const action = (action_type: string, amt: string, comment: string | null) =>
        rows.fine_fee_action.push({ ...owned, fine_id: id, action_type, amount: amt, comment, created_by: SEED_ACTOR });
      action('CREATE', amount, f.comment ?? null);
      if (status === 'IN_DISPUTE') action('DISPUTE', '0.00', 'Patron says the item was returned on time');
    },

    block(userId: string, blockType: string, owner: string | null, note: string | null, expiry: Date | null): void {
      rows.user_block.push({
        ...owned, user_id: userId, block_type: blockType, owner_library_id: owner, note, expiry_date: expiry, created_by: SEED_ACTOR,
      });
    },

    note(userId: string, noteType: string, text: string, owner: string | null, popup = false, userViewable = false): void {
      rows.user_note.push({
        ...owned, user_id: userId, note_type: noteType, text, owner_library_id: owner, popup, user_viewable: userViewable,
        created_by: SEED_ACTOR,
      });
    },

    statistic(userId: string, categoryType: string, category: string, owner: string | null, note: string | null = null): void {
      rows.user_statistic.push({ ...owned, user_id: userId, category_type: categoryType, category, note, owner_library_id: owner });
    },

    proxy(proxyUserId: string, sponsorUserId: string, isFulfillment: boolean): void {
      rows.proxy_link.push({
        ...owned, proxy_user_id: proxyUserId, sponsor_user_id: sponsorUserId, is_fulfillment: isFulfillment, created_by: SEED_ACTOR,
      });
    },

    loan(userId: string, libraryId: string, itemBarcode: string, loanDate: Date, dueDate: Date, returnedAt: Date | null): void {
      rows.loan.push({
        ...owned, user_id: userId, library_id: libraryId, item_barcode: itemBarcode, loan_date: loanDate, due_date: dueDate,
        returned_at: returnedAt,
      });
    },
  };
}
