import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A free-text note on a user, optionally shown as a pop-up to staff or visible to the user. */
@Entity('user_note')
export class UserNote {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'uuid', name: 'user_id' })
  userId: string;

  @Column({ type: 'text', name: 'note_type', default: 'GENERAL' })
  noteType: string;

  @Column({ type: 'text', name: 'text' })
  text: string;

  @Column({ type: 'uuid', name: 'owner_library_id', nullable: true })
  ownerLibraryId: string | null;

  @Column({ type: 'boolean', name: 'popup', default: false })
  popup: boolean;

  @Column({ type: 'boolean', name: 'user_viewable', default: false })
  userViewable: boolean;

  @Column({ type: 'boolean', name: 'is_external', default: false })
  isExternal: boolean;

  @Column({ type: 'text', name: 'created_by' })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}
