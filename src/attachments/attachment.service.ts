import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { badInput, conflict, notFound } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { RequestContext } from '../context';
import { inTransaction } from '../db/transaction';
import { recordUserChange } from '../history/record-change';
import type { Operator } from '../policy/operator';
import type { User } from '../db/entities';
import { markUserUpdated } from '../users/user.repository';
import { lockUserForChange } from '../users/user-target';
import {
  AttachmentRow, countAttachments, deleteAttachment, findAttachment, findAttachmentContent, insertAttachment,
} from './attachment.repository';
import { ACCEPTED_MEDIA_TYPES, sniffMediaType } from './content-type';
import { sanitiseFileName } from './file-name';

/** A refusal of the file itself; the HTTP layer answers it with its status (413, 415). */
export class FileRefused extends Error {
  constructor(readonly status: 413 | 415, message: string) {
    super(message);
  }
}

/** An attachment as the API shows it. */
export interface AttachmentView extends AttachmentRow {
  downloadUrl: string;
}

export const viewOf = (row: AttachmentRow): AttachmentView => ({ ...row, downloadUrl: `/attachments/${row.id}` });

/** How history and events show a file: its name, type and size (purging redacts it with the user's other values). */
const describe = (a: AttachmentRow) => `${a.fileName} (${a.mediaType}, ${a.sizeBytes} bytes)`;

export interface Upload {
  fileName: string | undefined;
  content: Buffer;
}

/**
 * Attaches a file to a user: the type from its content (415 when it is none of the accepted ones), the name made
 * safe, then in one transaction the user locked and judged as for any edit (attachment.manage for its record type,
 * protected accounts, restricted users), the per-user cap, the row, the user's updated by/date, the history entry
 * and the ATTACHMENT_ADDED event. A refusal at any step leaves nothing written.
 */
export async function addAttachment(ctx: RequestContext, userId: string, upload: Upload, maxPerUser: number): Promise<AttachmentView> {
  ctx.policy.assert('attachment.manage');
  if (!isUuid(userId)) throw badInput('userId', 'Not a user id');
  if (upload.content.length === 0) throw badInput('file', 'The file is empty');
  const mediaType = sniffMediaType(upload.content);
  if (!mediaType) throw new FileRefused(415, `The file's content is not one of the accepted types (${ACCEPTED_MEDIA_TYPES.join(', ')}), whatever its name`);
  const fileName = sanitiseFileName(upload.fileName);
  const sha256 = crypto.createHash('sha256').update(upload.content).digest('hex');
  return inTransaction(ctx.db, async (tx) => {
    const { operator, user } = await lockUserForChange(ctx, tx, 'attachment.manage', userId);
    if ((await countAttachments(tx, operator.institutionId, user.id)) >= maxPerUser) {
      throw conflict(`The user already has ${maxPerUser} attachments, the most allowed: remove one first`, { field: 'file' });
    }
    const row = await insertAttachment(tx, {
      institutionId: operator.institutionId, userId: user.id, fileName, mediaType, content: upload.content, sha256, createdBy: operator.label,
    });
    await recordChange(tx, operator, user, 'ATTACHMENT_ADDED', row, null, describe(row));
    return viewOf(row);
  });
}

/** Removes an attachment, with the access rule, history entry and event of adding one (ATTACHMENT_REMOVED). */
export function removeAttachment(ctx: RequestContext, id: string): Promise<{ removedAttachmentId: string }> {
  const operator = ctx.policy.assert('attachment.manage');
  if (!isUuid(id)) throw badInput('id', 'Not an attachment id');
  return inTransaction(ctx.db, async (tx) => {
    const found = await findAttachment(tx, operator.institutionId, id);
    if (!found) throw notFound('No such attachment in your institution', { field: 'id' });
    const { user } = await lockUserForChange(ctx, tx, 'attachment.manage', found.userId);
    // Deleted by someone else while this request waited for the user's lock: gone either way.
    if (!(await deleteAttachment(tx, operator.institutionId, id))) throw notFound('No such attachment in your institution', { field: 'id' });
    await recordChange(tx, operator, user, 'ATTACHMENT_REMOVED', found, describe(found), null);
    return { removedAttachmentId: id };
  });
}

async function recordChange(
  tx: EntityManager, operator: Operator, user: User, eventType: 'ATTACHMENT_ADDED' | 'ATTACHMENT_REMOVED', a: AttachmentRow,
  oldValue: string | null, newValue: string | null,
) {
  await markUserUpdated(tx, user, operator.label);
  await recordUserChange(tx, operator, user.id, eventType, [{ field: 'attachments', oldValue, newValue }],
    { attachmentId: a.id, mediaType: a.mediaType, sizeBytes: a.sizeBytes, sha256: a.sha256 });
}

/** The user, when the operator may read it: user.read, and a user of the operator's institution (else NOT_FOUND). */
async function readableUser(ctx: RequestContext, userId: string, field: string): Promise<User> {
  ctx.policy.assert('user.read');
  if (!isUuid(userId)) throw badInput(field, 'Not a user id');
  const user = await ctx.loaders.userById.load(userId);
  if (!user) throw notFound('No such user in your institution', { field });
  return user;
}

/** A user's attachments, oldest first. */
export async function listAttachments(ctx: RequestContext, userId: string): Promise<AttachmentView[]> {
  const user = await readableUser(ctx, userId, 'userId');
  return (await ctx.loaders.attachmentsByUser.load(user.id)).map(viewOf);
}

/** An attachment with its bytes, for an operator who may read its user. */
export async function getAttachmentContent(ctx: RequestContext, id: string): Promise<AttachmentRow & { content: Buffer }> {
  const operator = ctx.policy.assert('user.read');
  if (!isUuid(id)) throw badInput('id', 'Not an attachment id');
  const found = await findAttachmentContent(ctx.db.manager, operator.institutionId, id);
  if (!found) throw notFound('No such attachment in your institution', { field: 'id' });
  await readableUser(ctx, found.userId, 'id');
  return found;
}
