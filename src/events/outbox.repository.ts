import type { EntityManager } from 'typeorm';

/**
 * A domain event (R11.3), written to the outbox in the same transaction as
 * the change it describes, so an event exists exactly when the change does.
 */
export interface DomainEvent {
  institutionId: string;
  eventType: string;
  aggregateType: 'USER' | 'FINE' | 'ROLE' | 'API_KEY' | 'ROLE_PROFILE' | 'ROLE_ASSIGNMENT_RULE' | 'INSTITUTION';
  aggregateId: string;
  ownerLibraryId?: string | null;
  payload: Record<string, unknown>;
  actor: string;
}

export async function appendEvents(tx: EntityManager, events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.query(
    `INSERT INTO event_outbox (institution_id, event_type, aggregate_type, aggregate_id, owner_library_id, payload, actor)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::jsonb[], $7::text[])`,
    [
      events.map((e) => e.institutionId),
      events.map((e) => e.eventType),
      events.map((e) => e.aggregateType),
      events.map((e) => e.aggregateId),
      events.map((e) => e.ownerLibraryId ?? null),
      events.map((e) => JSON.stringify(e.payload)),
      events.map((e) => e.actor),
    ],
  );
}
