import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type WebhookStatus = 'ACTIVE' | 'DISABLED';

/**
 * A partner's registered URL that change events are POSTed to, signed with its secret; it holds roles like an API
 * key, which decide what it receives. The cursor is the last event it acknowledged (stream order, event-position.ts).
 */
@Entity('webhook')
export class Webhook {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'text', name: 'url' })
  url: string;

  @Column({ type: 'text', name: 'description', nullable: true })
  description: string | null;

  /** Kept as given: signing needs the key itself. Never returned by the API. */
  @Column({ type: 'text', name: 'secret' })
  secret: string;

  @Column({ type: 'text', name: 'event_types', array: true, default: () => "'{}'" })
  eventTypes: string[];

  @Column({ type: 'text', name: 'families', array: true, default: () => "'{}'" })
  families: string[];

  @Column({ type: 'text', name: 'status', default: 'ACTIVE' })
  status: WebhookStatus;

  @Column({ type: 'text', name: 'disabled_reason', nullable: true })
  disabledReason: string | null;

  @Column({ type: 'timestamptz', name: 'disabled_at', nullable: true })
  disabledAt: Date | null;

  // xid8 in the table; TypeORM knows no such type, and PostgreSQL reads and writes it as text.
  @Column({ type: 'text', name: 'cursor_xid' })
  cursorXid: string;

  @Column({ type: 'bigint', name: 'cursor_id' })
  cursorId: string;

  @Column({ type: 'integer', name: 'attempts', default: 0 })
  attempts: number;

  @Column({ type: 'timestamptz', name: 'failing_since', nullable: true })
  failingSince: Date | null;

  @Column({ type: 'timestamptz', name: 'next_attempt_at', nullable: true })
  nextAttemptAt: Date | null;

  @Column({ type: 'timestamptz', name: 'last_delivery_at', nullable: true })
  lastDeliveryAt: Date | null;

  @Column({ type: 'text', name: 'last_error', nullable: true })
  lastError: string | null;

  @Column({ type: 'text', name: 'lease_owner', nullable: true })
  leaseOwner: string | null;

  @Column({ type: 'timestamptz', name: 'lease_until', nullable: true })
  leaseUntil: Date | null;

  @Column({ type: 'text', name: 'created_by' })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @Column({ type: 'timestamptz', name: 'updated_at', default: () => 'now()' })
  updatedAt: Date;
}
