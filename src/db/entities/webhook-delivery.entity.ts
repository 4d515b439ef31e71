import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One attempt to deliver one event to one webhook: the delivery log (`Webhook.deliveries`). */
@Entity('webhook_delivery')
export class WebhookDelivery {
  @PrimaryGeneratedColumn({ type: 'bigint', name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'webhook_id' })
  webhookId: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  /** The `X-Carrel-Delivery` header: the same for every attempt at one event, so a receiver can drop repeats. */
  @Column({ type: 'uuid', name: 'delivery_id' })
  deliveryId: string;

  // xid8 in the table (see Webhook.cursorXid).
  @Column({ type: 'text', name: 'event_xid' })
  eventXid: string;

  @Column({ type: 'bigint', name: 'event_id' })
  eventId: string;

  @Column({ type: 'text', name: 'event_type' })
  eventType: string;

  @Column({ type: 'integer', name: 'attempt' })
  attempt: number;

  @Column({ type: 'timestamptz', name: 'at', default: () => 'now()' })
  at: Date;

  @Column({ type: 'integer', name: 'status_code', nullable: true })
  statusCode: number | null;

  @Column({ type: 'text', name: 'error', nullable: true })
  error: string | null;

  @Column({ type: 'integer', name: 'duration_ms' })
  durationMs: number;

  @Column({ type: 'boolean', name: 'succeeded' })
  succeeded: boolean;

  @Column({ type: 'timestamptz', name: 'next_attempt_at', nullable: true })
  nextAttemptAt: Date | null;
}
