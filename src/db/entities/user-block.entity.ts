import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A block on a user's account, until expiryDate (or indefinitely when it is null). */
@Entity('user_block')
export class UserBlock {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'uuid', name: 'user_id' })
  userId: string;

  @Column({ type: 'text', name: 'block_type' })
  blockType: string;

  @Column({ type: 'uuid', name: 'owner_library_id', nullable: true })
  ownerLibraryId: string | null;

  @Column({ type: 'text', name: 'note', nullable: true })
  note: string | null;

  @Column({ type: 'timestamptz', name: 'expiry_date', nullable: true })
  expiryDate: Date | null;

  @Column({ type: 'boolean', name: 'is_external', default: false })
  isExternal: boolean;

  @Column({ type: 'text', name: 'created_by' })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}
