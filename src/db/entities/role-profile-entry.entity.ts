import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { ScopeType } from './role-assignment.entity';

/** One role, with its scope, that a role profile grants. */
@Entity('role_profile_entry')
export class RoleProfileEntry {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'uuid', name: 'profile_id' })
  profileId: string;

  @Column({ type: 'text', name: 'role_type' })
  roleType: string;

  @Column({ type: 'text', name: 'scope_type', nullable: true })
  scopeType: ScopeType | null;

  @Column({ type: 'uuid', name: 'scope_library_id', nullable: true })
  scopeLibraryId: string | null;

  @Column({ type: 'uuid', name: 'scope_desk_id', nullable: true })
  scopeDeskId: string | null;
}
