import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Gives a role profile to users matching a job category and/or user group (at least one is set). */
@Entity('role_assignment_rule')
export class RoleAssignmentRule {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'text', name: 'job_category', nullable: true })
  jobCategory: string | null;

  @Column({ type: 'text', name: 'user_group', nullable: true })
  userGroup: string | null;

  @Column({ type: 'uuid', name: 'profile_id' })
  profileId: string;
}
