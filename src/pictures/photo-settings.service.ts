import type { RequestContext } from '../context';
import { inTransaction } from '../db/transaction';
import { appendEvents } from '../events/outbox.repository';
import type { PhotoSettingsInput } from '../generated/graphql';
import { findPhotoSettings, PhotoSettingsRow, updatePhotoSettings } from './photo-settings.repository';
import { validatePhotoSettings } from './photo-settings.validation';

const FIELDS = ['photoServerUrl', 'photoIdentifierType', 'photoSuffix'] as const;

/** The settings as the API shows them. */
export interface PhotoSettingsView extends PhotoSettingsRow {
  enabled: boolean;
}

const view = (row: PhotoSettingsRow): PhotoSettingsView => ({ enabled: row.photoServerUrl !== null, ...row });

/** The request's one read of the settings (the operator's institution: every user a request reads is of it). */
export function loadPhotoSettings(ctx: RequestContext): Promise<PhotoSettingsRow> {
  return ctx.loaders.photoSettings.load(ctx.policy.authenticated().institutionId);
}

/** The institution's photo server settings: configuration without personal data, so any operator may read them. */
export async function getPhotoSettings(ctx: RequestContext): Promise<PhotoSettingsView> {
  return view(await loadPhotoSettings(ctx));
}

/**
 * setPhotoSettings: replaces the three settings together (null clears them: pictures off), in one transaction with
 * the institution row locked, and publishes a PHOTO_SETTINGS_CHANGED event naming the changes, as the delete-user
 * policy does; no change, no event.
 */
export function setPhotoSettings(ctx: RequestContext, input: PhotoSettingsInput | null | undefined): Promise<PhotoSettingsView> {
  const operator = ctx.policy.assert('photoSettings.manage');
  return inTransaction(ctx.db, async (tx) => {
    const after = await validatePhotoSettings(tx, operator.institutionId, input);
    const before = await findPhotoSettings(tx, operator.institutionId, { lock: true });
    const changes = FIELDS.filter((f) => after[f] !== before[f]).map((field) => ({ field, oldValue: before[field], newValue: after[field] }));
    if (changes.length === 0) return view(before);
    await updatePhotoSettings(tx, operator.institutionId, after);
    await appendEvents(tx, [{
      institutionId: operator.institutionId, eventType: 'PHOTO_SETTINGS_CHANGED', aggregateType: 'INSTITUTION',
      aggregateId: operator.institutionId, actor: operator.label, payload: { settings: after, changes },
    }]);
    return view(after);
  });
}
