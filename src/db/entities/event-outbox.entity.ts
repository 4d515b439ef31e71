import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A domain event written in the same transaction as the change; its id is the subscribers' resume position. */
@Entity('event_outbox')
export class EventOutbox {
  @PrimaryGeneratedColumn({ type: 'bigint', name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'text', name: 'event_type' })
  eventType: string;

  @Column({ type: 'text', name: 'aggregate_type' })
  aggregateType: string;

  @Column({ type: 'uuid', name: 'aggregate_id' })
  aggregateId: string;

  @Column({ type: 'uuid', name: 'owner_library_id', nullable: true })
  ownerLibraryId: string | null;

  @Column({ type: 'jsonb', name: 'payload', default: () => "'{}'" })
  payload: Record<string, unknown>;

  @Column({ type: 'text', name: 'actor' })
  actor: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}
