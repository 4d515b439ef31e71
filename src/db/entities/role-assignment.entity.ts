import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type ScopeType = 'INSTITUTION' | 'LIBRARY' | 'CIRCULATION_DESK';

/** A role held by exactly one of a user, an API key or a webhook, within a scope; saved inactive while it lacks a needed scope. */
@Entity('role_assignment')
export class RoleAssignment {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'uuid', name: 'user_id', nullable: true })
  userId: string | null;

  @Column({ type: 'uuid', name: 'api_key_id', nullable: true })
  apiKeyId: string | null;

  @Column({ type: 'uuid', name: 'webhook_id', nullable: true })
  webhookId: string | null;

  @Column({ type: 'text', name: 'role_type' })
  roleType: string;

  @Column({ type: 'text', name: 'scope_type', nullable: true })
  scopeType: ScopeType | null;

  @Column({ type: 'uuid', name: 'scope_library_id', nullable: true })
  scopeLibraryId: string | null;

  @Column({ type: 'uuid', name: 'scope_desk_id', nullable: true })
  scopeDeskId: string | null;

  @Column({ type: 'boolean', name: 'is_active', default: true })
  isActive: boolean;

  @Column({ type: 'date', name: 'expiry_date', nullable: true })
  expiryDate: string | null;

  @Column({ type: 'text', name: 'created_by' })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}
