import type { EntityManager } from 'typeorm';
import { returningRows } from '../db/returning';

/** An attachment without its bytes: what lists, GraphQL and history show. */
export interface AttachmentRow {
  id: string;
  userId: string;
  fileName: string;
  mediaType: string;
  sizeBytes: number;
  sha256: string;
  createdBy: string;
  createdAt: Date;
}

const COLUMNS = `id, user_id AS "userId", file_name AS "fileName", media_type AS "mediaType", size_bytes AS "sizeBytes",
                 sha256, created_by AS "createdBy", created_at AS "createdAt"`;

export interface NewAttachment {
  institutionId: string;
  userId: string;
  fileName: string;
  mediaType: string;
  content: Buffer;
  sha256: string;
  createdBy: string;
}

export async function insertAttachment(tx: EntityManager, a: NewAttachment): Promise<AttachmentRow> {
  const [row] = await tx.query(
    `INSERT INTO user_attachment (institution_id, user_id, file_name, media_type, size_bytes, content, sha256, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
    [a.institutionId, a.userId, a.fileName, a.mediaType, a.content.length, a.content, a.sha256, a.createdBy],
  );
  return row;
}

/** How many files the user has; with the user's row locked, no concurrent upload can change it before commit. */
export async function countAttachments(tx: EntityManager, institutionId: string, userId: string): Promise<number> {
  const [row] = await tx.query(`SELECT count(*)::int AS n FROM user_attachment WHERE institution_id = $1 AND user_id = $2`, [institutionId, userId]);
  return row.n;
}

/** The attachments of every user of `userIds`, oldest first, without their bytes: one statement for a page of users. */
export function findAttachmentsOfUsers(db: EntityManager, institutionId: string, userIds: string[]): Promise<AttachmentRow[]> {
  return db.query(
    `SELECT ${COLUMNS} FROM user_attachment WHERE institution_id = $1 AND user_id = ANY($2::uuid[]) ORDER BY user_id, created_at, id`,
    [institutionId, userIds],
  );
}

export async function findAttachment(db: EntityManager, institutionId: string, id: string): Promise<AttachmentRow | null> {
  const [row] = await db.query(`SELECT ${COLUMNS} FROM user_attachment WHERE institution_id = $1 AND id = $2`, [institutionId, id]);
  return row ?? null;
}

/** The attachment with its bytes, for a download. */
export async function findAttachmentContent(db: EntityManager, institutionId: string, id: string): Promise<(AttachmentRow & { content: Buffer }) | null> {
  const [row] = await db.query(`SELECT ${COLUMNS}, content FROM user_attachment WHERE institution_id = $1 AND id = $2`, [institutionId, id]);
  return row ?? null;
}

export async function deleteAttachment(tx: EntityManager, institutionId: string, id: string): Promise<boolean> {
  const rows = await returningRows(tx, `DELETE FROM user_attachment WHERE institution_id = $1 AND id = $2 RETURNING id`, [institutionId, id]);
  return rows.length === 1;
}
