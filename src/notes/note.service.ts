import type { RequestContext } from '../context';
import { UserNote } from '../db/entities';
import type { NoteInput } from '../generated/graphql';
import { configuredCode, requiredText } from '../owned-items/owned-item-input';
import type { OwnedItemKind } from '../owned-items/owned-item-kind';
import { addOwnedItem, removeOwnedItem, updateOwnedItem } from '../owned-items/owned-item.service';

/** The seeds' standard note type, also the column default: accepted even where no NOTE_TYPE list is configured. */
export const STANDARD_NOTE_TYPE = 'GENERAL';

/** Notes (R6.1): any user may have them, contacts included (R1.1). */
export const NOTE: OwnedItemKind<UserNote, NoteInput> = {
  name: 'note',
  action: 'note.manage',
  entity: UserNote,
  eventPrefix: 'NOTE',
  field: 'notes',
  inHistory: true,
  touchesUser: true,
  recordsCreator: true,
  refuseUser: () => null,
  async values(tx, institutionId, input) {
    const noteType = input.type == null || input.type.trim() === STANDARD_NOTE_TYPE
      ? STANDARD_NOTE_TYPE
      : await configuredCode(tx, institutionId, 'input.type', 'NOTE_TYPE', input.type);
    return {
      noteType,
      text: requiredText('input.text', input.text),
      popup: input.popup ?? false,
      userViewable: input.userViewable ?? false,
    };
  },
  describe: (n) => `${n.noteType}: ${n.text}${n.popup ? ' [pop-up]' : ''}${n.userViewable ? ' [user viewable]' : ''}`,
};

export const addNote = (ctx: RequestContext, userId: string, input: NoteInput) => addOwnedItem(ctx, NOTE, userId, input);
export const updateNote = (ctx: RequestContext, id: string, input: NoteInput) => updateOwnedItem(ctx, NOTE, id, input);
export const removeNote = (ctx: RequestContext, id: string) => removeOwnedItem(ctx, NOTE, id);
