import type { EntityManager } from 'typeorm';
import { appendEvents } from '../events/outbox.repository';
import type { EventType } from '../generated/graphql';
import type { Operator } from '../policy/operator';
import { ConfigurationSubject, recordHistory } from './history.repository';

/** One changed thing of a user (R9.1): a field or item, its old and new value as text. */
export interface FieldChange {
  field: string;
  oldValue: string | null;
  newValue: string | null;
  /** For owned items (notes, blocks): the owner, so history reads can respect library independence. */
  ownerLibraryId?: string | null;
}

/** A secret's change (password, PIN): that it changed or was removed, never its value (R9.1). */
export const secretChange = (field: string, next: unknown): FieldChange =>
  ({ field, oldValue: null, newValue: next === null ? '(removed)' : '(changed)' });

/**
 * Records a change of a user in the caller's transaction: one history entry
 * per changed field (R9.1) and one outbox event (R11.3) carrying the same
 * changes, so partners see exactly what history shows.
 */
export async function recordUserChange(
  tx: EntityManager,
  operator: Operator,
  userId: string,
  eventType: EventType,
  changes: FieldChange[],
  payload: Record<string, unknown> = {},
  /** `history: false` for changes R9.1 does not list (statistics): partners still get the event, history stays as the seeds define it. */
  options: { history?: boolean } = {},
): Promise<void> {
  if (changes.length === 0) return;
  if (options.history !== false) await recordHistory(tx, changes.map((c) => ({ institutionId: operator.institutionId, userId, changedBy: operator.label, ...c })));
  const ownerLibraryId = changes.length === 1 ? changes[0].ownerLibraryId ?? null : null;
  await appendEvents(tx, [{
    institutionId: operator.institutionId, eventType, aggregateType: 'USER', aggregateId: userId, ownerLibraryId, actor: operator.label,
    payload: { ...payload, changes: changes.map(({ field, oldValue, newValue }) => ({ field, oldValue, newValue })) },
  }]);
}

/**
 * Records a change of a role profile or role assignment rule: they decide
 * which roles users get, so they are audited like a user's roles (history
 * entries about the subject, and one event), in the caller's transaction.
 */
export async function recordConfigurationChange(
  tx: EntityManager,
  operator: Operator,
  subject: ConfigurationSubject,
  eventType: EventType,
  changes: FieldChange[],
  payload: Record<string, unknown> = {},
): Promise<void> {
  if (changes.length === 0) return;
  await recordHistory(tx, changes.map((c) => ({ institutionId: operator.institutionId, userId: null, subject, changedBy: operator.label, ...c })));
  await appendEvents(tx, [{
    institutionId: operator.institutionId, eventType, aggregateType: subject.type, aggregateId: subject.id, actor: operator.label,
    payload: { ...payload, changes: changes.map(({ field, oldValue, newValue }) => ({ field, oldValue, newValue })) },
  }]);
}
