import type { EntityManager, EntityTarget } from 'typeorm';
import type { User } from '../db/entities';
import type { Action } from '../policy/permissions';

/** The columns every owned item (R5.1) shares: notes, blocks and statistics. */
export interface OwnedItemRow {
  id: string;
  institutionId: string;
  userId: string;
  ownerLibraryId: string | null;
  isExternal: boolean;
}

/** What every owned item's input carries: the owner (null or absent: the institution). */
export interface OwnerInput {
  ownerLibraryId?: string | null;
}

/**
 * Describes one kind of owned item to the shared life cycle in
 * owned-item.service.ts, so notes, blocks and statistics follow the same
 * scope, owner, external and history rules from one implementation.
 */
export interface OwnedItemKind<Row extends OwnedItemRow, Input extends OwnerInput> {
  /** The item's name in messages ("note"). */
  name: string;
  /** The permission (and R5.3 owner scope) needed to add, update or remove one. */
  action: Action;
  entity: EntityTarget<Row>;
  /** Event types are `<prefix>_ADDED`, `<prefix>_UPDATED`, `<prefix>_REMOVED`. */
  eventPrefix: 'NOTE' | 'BLOCK' | 'STATISTIC';
  /** The history field and the field named in the event's changes ("notes"). */
  field: string;
  /** Whether R9.1 lists the kind; when not, only the event is published. */
  inHistory: boolean;
  /** The seeds stamp the user's "last updated" when notes or blocks change. */
  touchesUser: boolean;
  /** Whether the table has a created_by column to fill on insert. */
  recordsCreator: boolean;
  /** Why `user` cannot have items of this kind (R1.1), or null when it can. */
  refuseUser(user: User): string | null;
  /** Validates the input into the item's own columns (everything but user, owner and external flag); refusals name the input field. */
  values(tx: EntityManager, institutionId: string, input: Input): Promise<Partial<Row>>;
  /** The item as one line of text: the old and new values of history entries and events. */
  describe(row: Row): string;
}
