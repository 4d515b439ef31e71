import { GraphQLError } from 'graphql';
import { badInput } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { WaiveFinesInput } from '../generated/graphql';
import { optionalText, requiredText } from '../owned-items/owned-item-input';
import type { WaiveFilter } from './fine-waive.repository';
import { Cents, positiveAmount } from './money';

/**
 * A waive request checked for shape before the transaction opens (R7.4):
 * exactly one way of choosing the fines, an amount only for a single fine,
 * a reason and comment as text. Whether the reason is configured and the
 * fines may be waived needs the database and is decided in the service.
 */
export type WaiveTarget =
  | { kind: 'ids'; fineIds: string[] }
  | { kind: 'filter'; filter: WaiveFilter };

export interface WaiveRequest {
  target: WaiveTarget;
  /** Partial waive of the single listed fine; null: each fine's whole remaining balance. */
  amount: Cents | null;
  reason: string;
  comment: string | null;
}

export function parseWaiveInput(input: WaiveFinesInput): WaiveRequest {
  const hasIds = input.fineIds != null;
  const hasFilter = input.filter != null;
  if (hasIds === hasFilter) throw badInput('input', 'Give exactly one of fineIds (the fines) and filter (every matching fine of a user)');
  const reason = requiredText('input.reason', input.reason, 100);
  const comment = optionalText('input.comment', input.comment);
  let amount: Cents | null = null;
  if (input.amount != null) {
    // A partial amount is meaningful for one fine only: split over several, which fine gets how much would be a guess.
    if (!hasIds || input.fineIds!.length !== 1) throw badInput('input.amount', 'An amount can be given only when waiving exactly one fine (listed in fineIds); leave it out to waive each fine\'s whole remaining balance');
    amount = positiveAmount('input.amount', input.amount);
  }
  if (hasIds) return { target: { kind: 'ids', fineIds: input.fineIds! }, amount, reason, comment };
  return { target: { kind: 'filter', filter: parseFilter(input.filter!) }, amount, reason, comment };
}

function parseFilter(filter: NonNullable<WaiveFinesInput['filter']>): WaiveFilter {
  if (!isUuid(filter.userId)) throw badInput('input.filter.userId', 'Not a user id');
  if (filter.ownerLibraryId != null && !isUuid(filter.ownerLibraryId)) throw badInput('input.filter.ownerLibraryId', 'Not a library id');
  const types = filter.types == null ? null : filter.types.map((t, i) => requiredText(`input.filter.types[${i}]`, t, 100));
  return { userId: filter.userId, types, ownerLibraryId: filter.ownerLibraryId ?? null };
}

/** R7.4: more fines than the institution allows are refused whole, before anything is locked or written. */
export function overCap(field: string, limit: number, what: string): GraphQLError {
  return new GraphQLError(`${what}: at most ${limit} fines can be waived in one action (the institution's waiving_fines_fees_limit). Nothing was waived (R7.4)`, {
    extensions: { code: 'BAD_USER_INPUT', field, limit },
  });
}

/** The listed ids must be fine ids, each once; the refusal names the first offending position. */
export function checkFineIds(fineIds: string[]): void {
  if (fineIds.length === 0) throw badInput('input.fineIds', 'List at least one fine');
  const seen = new Map<string, number>();
  fineIds.forEach((id, i) => {
    if (!isUuid(id)) throw badInput(`input.fineIds[${i}]`, `"${id}" is not a fine id`);
    const key = id.toLowerCase();
    if (seen.has(key)) throw badInput(`input.fineIds[${i}]`, `Fine ${id} is listed twice (also at input.fineIds[${seen.get(key)}])`);
    seen.set(key, i);
  });
}
