import { conflict } from '../common/errors';
import type { TakenIdentifier } from './identifier.repository';

/**
 * The refusals of R2.2 and R2.4, worded like the seeds' platform: the type
 * and the value of the identifier, and whose it is already ("Identifier
 * BARCODE 12345 already belongs to another user"). `type` null is the
 * primary identifier.
 */

const named = (type: string | null, value: string) => (type === null ? `Primary identifier ${value}` : `Identifier ${type} ${value}`);

/** The value is held already: by the user being changed (`userId`, null for a new user) or by someone else. */
export function identifierTaken(field: string, type: string | null, taken: TakenIdentifier, userId: string | null) {
  const whose = taken.userId === userId ? 'this user' : 'another user';
  const as = taken.heldAs === type ? '' : ` (as ${taken.heldAs === null ? 'primary identifier' : taken.heldAs})`;
  return conflict(`${named(type, taken.value)} already belongs to ${whose}${as}`, { field, value: taken.value });
}

/** One input gives the same value twice (an additional identifier, or one equal to the primary identifier). */
export function identifierGivenTwice(field: string, type: string, value: string, asPrimary: boolean) {
  return conflict(`${named(type, value)} is given twice${asPrimary ? ' (it is the primary identifier)' : ''}`, { field, value });
}
