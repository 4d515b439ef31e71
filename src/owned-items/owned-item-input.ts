import type { EntityManager } from 'typeorm';
import { badInput } from '../common/errors';
import type { CodeKind } from '../db/entities';
import { findExistingCodes } from '../institutions/institution.repository';

/** Shared input rules of owned items: texts are trimmed and bounded, codes come from the institution's configured lists. */

export const MAX_TEXT = 4000;

export function requiredText(field: string, value: string, max = MAX_TEXT): string {
  const text = value.trim();
  if (!text) throw badInput(field, 'This field is required and cannot be blank');
  if (text.length > max) throw badInput(field, `At most ${max} characters`);
  return text;
}

/** Null for absent or blank text. */
export function optionalText(field: string, value: string | null | undefined, max = MAX_TEXT): string | null {
  const text = value?.trim();
  if (!text) return null;
  if (text.length > max) throw badInput(field, `At most ${max} characters`);
  return text;
}

export async function configuredCode(tx: EntityManager, institutionId: string, field: string, kind: CodeKind, value: string): Promise<string> {
  const code = requiredText(field, value, 100);
  if ((await findExistingCodes(tx, institutionId, kind, [code])).length === 0) {
    throw badInput(field, `"${code}" is not a configured ${kind.toLowerCase().replace(/_/g, ' ')}`);
  }
  return code;
}
