import type { EntityManager } from 'typeorm';
import { badInput } from '../common/errors';
import { findExistingCodes, findLibraryCodes } from '../institutions/institution.repository';

/**
 * The codes a user record refers to must exist in the institution: the
 * configured user group, job category and campus (R1.4), and the library
 * codes of the resource sharing and purchase request libraries. createUser
 * and updateUser check them here, the same way, inside their transaction.
 */

const CONFIGURED = [['userGroup', 'USER_GROUP'], ['jobCategory', 'JOB_CATEGORY'], ['campus', 'CAMPUS']] as const;
const LIBRARY_LISTS = ['resourceSharingLibraries', 'purchaseRequestLibraries'] as const;

export type UserCodes = Partial<Record<(typeof CONFIGURED)[number][0], unknown> & Record<(typeof LIBRARY_LISTS)[number], unknown>>;

/**
 * `values` holds the codes to check as they will be stored (absent fields are
 * not checked); `given` the input as sent, so a refusal names the position of
 * the offending code in the list the client sent.
 */
export async function checkUserCodes(db: EntityManager, institutionId: string, values: UserCodes, given: UserCodes = values): Promise<void> {
  for (const [field, kind] of CONFIGURED) {
    const code = values[field];
    if (typeof code === 'string' && (await findExistingCodes(db, institutionId, kind, [code])).length === 0) {
      throw badInput(`input.${field}`, `"${code}" is not a configured ${kind.toLowerCase().replace('_', ' ')}`);
    }
  }
  for (const field of LIBRARY_LISTS) {
    const codes = values[field];
    if (!Array.isArray(codes) || codes.length === 0) continue;
    const known = new Set(await findLibraryCodes(db, institutionId, codes as string[]));
    const unknown = (codes as string[]).find((code) => !known.has(code));
    if (unknown === undefined) continue;
    const sent = Array.isArray(given[field]) ? (given[field] as string[]).findIndex((code) => code.trim() === unknown) : -1;
    throw badInput(sent >= 0 ? `input.${field}[${sent}]` : `input.${field}`, `Library ${unknown} is not a library of your institution`);
  }
}
