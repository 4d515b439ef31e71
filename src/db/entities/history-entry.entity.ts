import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One changed field of a user record, or of a role profile or assignment rule
 * (`subjectType`, `subjectId`; `userId` is then null). Outlives its subject
 * (no foreign key) to keep statistical data.
 */
@Entity('history_entry')
export class HistoryEntry {
  @PrimaryGeneratedColumn({ type: 'bigint', name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'uuid', name: 'user_id', nullable: true })
  userId: string | null;

  @Column({ type: 'text', name: 'subject_type', default: 'USER' })
  subjectType: 'USER' | 'ROLE_PROFILE' | 'ROLE_ASSIGNMENT_RULE';

  @Column({ type: 'uuid', name: 'subject_id', nullable: true })
  subjectId: string | null;

  @Column({ type: 'text', name: 'field' })
  field: string;

  @Column({ type: 'text', name: 'old_value', nullable: true })
  oldValue: string | null;

  @Column({ type: 'text', name: 'new_value', nullable: true })
  newValue: string | null;

  @Column({ type: 'uuid', name: 'owner_library_id', nullable: true })
  ownerLibraryId: string | null;

  @Column({ type: 'text', name: 'changed_by' })
  changedBy: string;

  @Column({ type: 'timestamptz', name: 'changed_at', default: () => 'now()' })
  changedAt: Date;
}
