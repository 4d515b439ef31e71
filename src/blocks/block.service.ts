import type { RequestContext } from '../context';
import { UserBlock } from '../db/entities';
import type { BlockInput } from '../generated/graphql';
import { configuredCode, optionalText } from '../owned-items/owned-item-input';
import type { OwnedItemKind } from '../owned-items/owned-item-kind';
import { addOwnedItem, removeOwnedItem, updateOwnedItem } from '../owned-items/owned-item.service';

/** Blocks (R6.2): active until their expiry date passes; never on contacts (R1.1). */
export const BLOCK: OwnedItemKind<UserBlock, BlockInput> = {
  name: 'block',
  action: 'block.manage',
  entity: UserBlock,
  eventPrefix: 'BLOCK',
  field: 'blocks',
  inHistory: true,
  touchesUser: true,
  recordsCreator: true,
  refuseUser: (user) => (user.recordType === 'CONTACT' ? 'Contact records cannot be blocked (R1.1)' : null),
  async values(tx, institutionId, input) {
    return {
      blockType: await configuredCode(tx, institutionId, 'input.type', 'BLOCK_TYPE', input.type),
      note: optionalText('input.note', input.note),
      expiryDate: input.expiresAt ?? null,
    };
  },
  describe: (b) => `${b.blockType}${b.expiryDate ? ` until ${b.expiryDate.toISOString()}` : ''}${b.note ? `: ${b.note}` : ''}`,
};

export const addBlock = (ctx: RequestContext, userId: string, input: BlockInput) => addOwnedItem(ctx, BLOCK, userId, input);
export const updateBlock = (ctx: RequestContext, id: string, input: BlockInput) => updateOwnedItem(ctx, BLOCK, id, input);
export const removeBlock = (ctx: RequestContext, id: string) => removeOwnedItem(ctx, BLOCK, id);
