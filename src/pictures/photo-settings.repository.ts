import type { EntityManager } from 'typeorm';

/** The institution's photo server settings (user pictures); all null when pictures are off. */
export interface PhotoSettingsRow {
  photoServerUrl: string | null;
  photoIdentifierType: string | null;
  photoSuffix: string | null;
}

const SELECT = `SELECT photo_server_url AS "photoServerUrl", photo_identifier_type AS "photoIdentifierType", photo_suffix AS "photoSuffix"
                  FROM institution WHERE id = $1`;

/** The settings; `lock` holds the institution row until the transaction ends, so concurrent changes queue. */
export async function findPhotoSettings(db: EntityManager, institutionId: string, opts: { lock?: boolean } = {}): Promise<PhotoSettingsRow> {
  const [row] = await db.query(`${SELECT}${opts.lock ? ' FOR UPDATE' : ''}`, [institutionId]);
  if (!row) throw new Error(`institution ${institutionId} not found`);
  return row;
}

export async function updatePhotoSettings(tx: EntityManager, institutionId: string, s: PhotoSettingsRow): Promise<void> {
  await tx.query(`UPDATE institution SET photo_server_url = $2, photo_identifier_type = $3, photo_suffix = $4 WHERE id = $1`,
    [institutionId, s.photoServerUrl, s.photoIdentifierType, s.photoSuffix]);
}
