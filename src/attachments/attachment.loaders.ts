import type { EntityManager } from 'typeorm';
import { groupedLoader } from '../common/loaders';
import { findAttachmentsOfUsers } from './attachment.repository';

export function createAttachmentLoaders(db: EntityManager, institutionId: string) {
  return {
    attachmentsByUser: groupedLoader((ids) => findAttachmentsOfUsers(db, institutionId, ids), (a) => a.userId),
  };
}
