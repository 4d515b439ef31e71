import DataLoader from 'dataloader';
import type { EntityManager } from 'typeorm';
import { findPhotoSettings, PhotoSettingsRow } from './photo-settings.repository';

/** The photo settings are the institution's: read once per request, however many users ask for a pictureUrl. */
export function createPictureLoaders(db: EntityManager) {
  return {
    photoSettings: new DataLoader<string, PhotoSettingsRow>((ids) => Promise.all(ids.map((id) => findPhotoSettings(db, id)))),
  };
}
