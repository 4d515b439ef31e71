import type { EntityManager } from 'typeorm';
import type { FineFee } from '../db/entities';
import { appendEvents } from '../events/outbox.repository';
import type { EventType } from '../generated/graphql';
import { recordHistory } from '../history/history.repository';
import type { Operator } from '../policy/operator';
import { fromCents, toCents } from './money';

/** The history field of every fine change (R7.7, issue 5 item 9). */
export const FINE_FIELD = 'fines';

/** A fine as one line of history: "OVERDUEFINE 12.50 ACTIVE" (type, remaining amount, status). */
export function describeFine(f: Pick<FineFee, 'fineType' | 'remainingAmount' | 'status'>): string {
  return `${f.fineType} ${fromCents(toCents(f.remainingAmount))} ${f.status}`;
}

/** One fine's change: its state before (null when it was just added) and after, and what the event adds. */
export interface FineChange {
  fine: Pick<FineFee, 'id' | 'userId' | 'ownerLibraryId'>;
  oldValue: string | null;
  newValue: string;
  payload: Record<string, unknown>;
}

/**
 * History entries and outbox events for changed fines, in the caller's
 * transaction and in two statements however many fines changed. Each fine
 * gets its own history entry on its user and its own event on the FINE
 * aggregate (as waiveFines writes them; the payload names the user), stamped
 * with the fine's owner so that history reads and subscribers keep library
 * independence (R5.2).
 */
export async function recordFineChanges(tx: EntityManager, operator: Operator, eventType: EventType, changes: FineChange[]): Promise<void> {
  if (changes.length === 0) return;
  await recordHistory(tx, changes.map((c) => ({
    institutionId: operator.institutionId, userId: c.fine.userId, field: FINE_FIELD, oldValue: c.oldValue, newValue: c.newValue,
    ownerLibraryId: c.fine.ownerLibraryId, changedBy: operator.label,
  })));
  await appendEvents(tx, changes.map((c) => ({
    institutionId: operator.institutionId, eventType, aggregateType: 'FINE' as const, aggregateId: c.fine.id,
    ownerLibraryId: c.fine.ownerLibraryId, actor: operator.label,
    payload: {
      userId: c.fine.userId, fineId: c.fine.id, ownerLibraryId: c.fine.ownerLibraryId, ...c.payload,
      changes: [{ field: FINE_FIELD, oldValue: c.oldValue, newValue: c.newValue }],
    },
  })));
}
