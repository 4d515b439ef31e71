import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A statistical category attached to a user, for reporting. */
@Entity('user_statistic')
export class UserStatistic {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'uuid', name: 'user_id' })
  userId: string;

  @Column({ type: 'text', name: 'category_type' })
  categoryType: string;

  @Column({ type: 'text', name: 'category' })
  category: string;

  @Column({ type: 'text', name: 'note', nullable: true })
  note: string | null;

  @Column({ type: 'uuid', name: 'owner_library_id', nullable: true })
  ownerLibraryId: string | null;

  @Column({ type: 'boolean', name: 'is_external', default: false })
  isExternal: boolean;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}
