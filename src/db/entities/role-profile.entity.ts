import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** A named bundle of roles, applied to users by role assignment rules. */
@Entity('role_profile')
@Unique('role_profile_institution_id_name_key', ['institutionId', 'name'])
export class RoleProfile {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'text', name: 'name' })
  name: string;

  @Column({ type: 'text', name: 'description', nullable: true })
  description: string | null;
}
