import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One sign-in attempt, successful or not; userId is null when no user matched the identifier. A staff login has
 * channel LOGIN; a partner's check of a user's password (authenticateUser) PARTNER, with the operator that asked.
 */
@Entity('login_attempt')
export class LoginAttempt {
  @PrimaryGeneratedColumn({ type: 'bigint', name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id', nullable: true })
  institutionId: string | null;

  @Column({ type: 'uuid', name: 'user_id', nullable: true })
  userId: string | null;

  @Column({ type: 'text', name: 'identifier' })
  identifier: string;

  @Column({ type: 'boolean', name: 'succeeded' })
  succeeded: boolean;

  @Column({ type: 'text', name: 'reason', nullable: true })
  reason: string | null;

  @Column({ type: 'timestamptz', name: 'attempted_at', default: () => 'now()' })
  attemptedAt: Date;

  @Column({ type: 'text', name: 'channel', default: 'LOGIN' })
  channel: 'LOGIN' | 'PARTNER';

  /** The label of the API key or operator that asked, for PARTNER attempts. */
  @Column({ type: 'text', name: 'requested_by', nullable: true })
  requestedBy: string | null;
}
