import type { PhotoSettingsRow } from './photo-settings.repository';
import { PRIMARY_IDENTIFIER_TYPE } from './photo-settings.validation';

/** What a picture's name is taken from: the primary identifier and the additional identifiers, in their stored order. */
export interface PictureSource {
  primaryIdentifier: string | null;
  identifiers: readonly { idType: string; value: string }[];
}

/**
 * `<url><identifier>.<suffix>` (the seeds' "<user identifier>.<photo_suffix>"), the identifier URL-encoded so that
 * a value with "/", "?" or "#" names a file in the folder and nothing else. Null when pictures are off or the user
 * has no identifier of the type; of several, the first (the identifiers' order: by id).
 */
export function pictureUrl(settings: PhotoSettingsRow, user: PictureSource): string | null {
  const { photoServerUrl, photoIdentifierType, photoSuffix } = settings;
  if (!photoServerUrl || !photoIdentifierType || !photoSuffix) return null;
  const value = photoIdentifierType === PRIMARY_IDENTIFIER_TYPE
    ? user.primaryIdentifier
    : user.identifiers.find((i) => i.idType === photoIdentifierType)?.value;
  return value ? `${photoServerUrl}${encodeURIComponent(value)}.${photoSuffix}` : null;
}
