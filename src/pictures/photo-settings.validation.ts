import type { EntityManager } from 'typeorm';
import { badInput } from '../common/errors';
import type { PhotoSettingsInput } from '../generated/graphql';
import { findExistingCodes } from '../institutions/institution.repository';
import type { PhotoSettingsRow } from './photo-settings.repository';

/** The identifier type that names a picture by the user's primary identifier (the seeds' "USERNAME"). */
export const PRIMARY_IDENTIFIER_TYPE = 'USERNAME';

const SUFFIX = /^[A-Za-z0-9]{1,10}$/;

/**
 * The photo server URL as the seeds describe it: HTTPS, ending with "/", absolute. Credentials, a query or a
 * fragment would end up in every picture URL shown to staff (and a query or fragment would swallow the file name),
 * so they are refused. Returns the URL as the WHATWG parser writes it (host lower-cased, unsafe characters encoded),
 * which is what browsers will request.
 */
export function checkPhotoServerUrl(raw: string, field = 'input.photoServerUrl'): string {
  // The parser turns "\" into "/" in an https URL: refused rather than silently changed.
  if (/[\s\\]/.test(raw)) throw badInput(field, 'The URL must not contain white space or backslashes');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badInput(field, 'Not an absolute URL (e.g. https://photos.example.edu/users/)');
  }
  if (url.protocol !== 'https:') throw badInput(field, 'The URL must use HTTPS');
  // The parser also takes "https:host/" and "https:///host/": only the plain absolute form is stored.
  if (!/^https:\/\/[^/]/i.test(raw)) throw badInput(field, 'Not an absolute URL (e.g. https://photos.example.edu/users/)');
  if (url.username || url.password) throw badInput(field, 'The URL must not contain a user name or password');
  if (raw.includes('?') || raw.includes('#')) throw badInput(field, 'The URL must not have a query (?) or fragment (#)');
  if (!url.hostname) throw badInput(field, 'The URL has no host');
  if (!raw.endsWith('/') || !url.pathname.endsWith('/')) throw badInput(field, 'The URL must end with a forward slash (/)');
  return url.href;
}

export function checkPhotoSuffix(raw: string, field = 'input.photoSuffix'): string {
  if (raw.startsWith('.')) throw badInput(field, 'Give the suffix without the dot (e.g. png)');
  if (!SUFFIX.test(raw)) throw badInput(field, 'The suffix must be 1 to 10 letters or digits (e.g. png)');
  return raw;
}

/** USERNAME, or a code of the institution's identifier types (compared exactly, as identifiers' types are). */
export async function checkPhotoIdentifierType(db: EntityManager, institutionId: string, raw: string, field = 'input.photoIdentifierType'): Promise<string> {
  if (raw === PRIMARY_IDENTIFIER_TYPE) return raw;
  if ((await findExistingCodes(db, institutionId, 'IDENTIFIER_TYPE', [raw])).length === 0) {
    throw badInput(field, `"${raw}" is neither ${PRIMARY_IDENTIFIER_TYPE} nor a configured identifier type`);
  }
  return raw;
}

/** The settings to store for `input` (null: pictures off), each value checked in the order of the input's fields. */
export async function validatePhotoSettings(db: EntityManager, institutionId: string, input: PhotoSettingsInput | null | undefined): Promise<PhotoSettingsRow> {
  if (!input) return { photoServerUrl: null, photoIdentifierType: null, photoSuffix: null };
  const photoServerUrl = checkPhotoServerUrl(input.photoServerUrl);
  const photoIdentifierType = await checkPhotoIdentifierType(db, institutionId, input.photoIdentifierType);
  return { photoServerUrl, photoIdentifierType, photoSuffix: checkPhotoSuffix(input.photoSuffix) };
}
