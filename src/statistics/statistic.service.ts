import type { RequestContext } from '../context';
import { UserStatistic } from '../db/entities';
import type { StatisticInput } from '../generated/graphql';
import { configuredCode, optionalText, requiredText } from '../owned-items/owned-item-input';
import type { OwnedItemKind } from '../owned-items/owned-item-kind';
import { addOwnedItem, removeOwnedItem, updateOwnedItem } from '../owned-items/owned-item.service';

/**
 * Statistics (R6.3). The category is a configured STATISTIC_CATEGORY code;
 * the category type is the heading it is reported under, kept as given
 * because the institution's configuration has no list of category types
 * (nor a category-to-type mapping) yet. Not listed in R9.1: events only.
 * Contacts hold "contact info and notes only" (R1.1), so no statistics.
 */
export const STATISTIC: OwnedItemKind<UserStatistic, StatisticInput> = {
  name: 'statistic',
  action: 'statistic.manage',
  entity: UserStatistic,
  eventPrefix: 'STATISTIC',
  field: 'statistics',
  inHistory: false,
  touchesUser: false,
  recordsCreator: false,
  refuseUser: (user) => (user.recordType === 'CONTACT' ? 'Contact records hold contact information and notes only (R1.1)' : null),
  async values(tx, institutionId, input) {
    return {
      categoryType: requiredText('input.categoryType', input.categoryType, 100),
      category: await configuredCode(tx, institutionId, 'input.category', 'STATISTIC_CATEGORY', input.category),
      note: optionalText('input.note', input.note),
    };
  },
  describe: (s) => `${s.categoryType}/${s.category}${s.note ? `: ${s.note}` : ''}`,
};

export const addStatistic = (ctx: RequestContext, userId: string, input: StatisticInput) => addOwnedItem(ctx, STATISTIC, userId, input);
export const updateStatistic = (ctx: RequestContext, id: string, input: StatisticInput) => updateOwnedItem(ctx, STATISTIC, id, input);
export const removeStatistic = (ctx: RequestContext, id: string) => removeOwnedItem(ctx, STATISTIC, id);
