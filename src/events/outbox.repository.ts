import type { EventFamily, EventType } from '../generated/graphql';
import { audienceCondition, EventAudience } from '../policy/event-audience';
import type { EventPosition } from './event-position';

/**
 * A domain event (R11.3), written to the outbox in the same transaction as
 * the change it describes, so an event exists exactly when the change does.
 */
export interface DomainEvent {
  institutionId: string;
  /** One of the schema's EventType values, so every event written is one a subscriber can receive. */
  eventType: EventType;
  aggregateType: 'USER' | 'FINE' | 'ROLE' | 'API_KEY' | 'ROLE_PROFILE' | 'ROLE_ASSIGNMENT_RULE' | 'INSTITUTION';
  aggregateId: string;
  ownerLibraryId?: string | null;
  payload: Record<string, unknown>;
  actor: string;
}

export async function appendEvents(tx: SqlRunner, events: DomainEvent[]): Promise<void> {
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

/** Where the readers run their statements: a transaction or pool (EntityManager), or an instance's own connection. */
export interface SqlRunner {
  query(sql: string, params?: unknown[]): Promise<any>;
}

/** An outbox row as subscribers and the `events` query read it. */
export interface EventRow {
  id: string;
  xid: string;
  institutionId: string;
  eventType: EventType;
  aggregateType: DomainEvent['aggregateType'];
  aggregateId: string;
  family: EventFamily;
  userId: string | null;
  ownerLibraryId: string | null;
  payload: Record<string, unknown>;
  actor: string;
  createdAt: Date;
}

const EVENT_COLUMNS = `e.id::text AS id, e.xid::text AS xid, e.institution_id AS "institutionId", e.event_type AS "eventType",
  e.aggregate_type AS "aggregateType", e.aggregate_id AS "aggregateId", e.family, e.user_id AS "userId",
  e.owner_library_id AS "ownerLibraryId", e.payload, e.actor, e.created_at AS "createdAt"`;

/** What a subscription or the `events` query asks for, on top of what the audience may receive. */
export interface EventSelection {
  families?: readonly EventFamily[] | null;
  types?: readonly EventType[] | null;
  userId?: string | null;
}

export interface ReleasedEvents {
  rows: EventRow[];
  /**
   * The oldest transaction still running when the rows were read (pg_current_snapshot()'s xmin): every event
   * of a transaction below it is in the table for good, and every later event will have an xid at or above it.
   */
  horizon: bigint;
  /** Whether committed events were held back because an older transaction was still running (asked with `askHeld`). */
  held: boolean;
}

/**
 * The released events after `after`, in stream order, up to `upTo` when given: those whose transaction id is below
 * the oldest transaction still running, so no event can ever appear before them. Unfiltered (every institution)
 * for an instance's one read, or for one audience and selection (replays, the `events` query).
 */
export async function readReleasedEvents(
  db: SqlRunner,
  after: EventPosition,
  limit: number,
  options: { upTo?: EventPosition; audience?: EventAudience; selection?: EventSelection & { usersOnly?: boolean }; askHeld?: boolean } = {},
): Promise<ReleasedEvents> {
  const params: unknown[] = [after.xid.toString(), after.id.toString(), limit];
  const where: string[] = [];
  if (options.upTo) where.push(`(e.xid, e.id) <= ($${params.push(options.upTo.xid.toString())}::xid8, $${params.push(options.upTo.id.toString())}::bigint)`);
  if (options.audience) {
    const condition = audienceCondition(options.audience, 'e', params.length + 1);
    where.push(condition.sql);
    params.push(...condition.params);
  }
  const selection = options.selection ?? {};
  if (selection.families?.length) where.push(`e.family = ANY($${params.push(selection.families)}::text[])`);
  if (selection.types?.length) where.push(`e.event_type = ANY($${params.push(selection.types)}::text[])`);
  if (selection.userId) where.push(`e.user_id = $${params.push(selection.userId)}::uuid`);
  if (selection.usersOnly) where.push(`e.aggregate_type = 'USER'`);
  const filter = where.map((w) => ` AND ${w}`).join('');
  const rows: (EventRow & { horizon: string; held: boolean })[] = await db.query(
    `WITH h AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
     SELECT h.xmin::text AS horizon,
            ${options.askHeld ? `EXISTS (SELECT 1 FROM event_outbox e WHERE (e.xid, e.id) > ($1::xid8, $2::bigint) AND e.xid >= h.xmin${filter})` : 'false'} AS held,
            r.*
       FROM h
       LEFT JOIN LATERAL (
         SELECT ${EVENT_COLUMNS} FROM event_outbox e
          WHERE (e.xid, e.id) > ($1::xid8, $2::bigint) AND e.xid < h.xmin${filter}
          ORDER BY e.xid, e.id
          LIMIT $3
       ) r ON true`,
    params,
  );
  const [first] = rows;
  return {
    rows: rows.filter((r) => r.id !== null).map(({ horizon: _h, held: _held, ...row }) => row as EventRow),
    horizon: BigInt(first.horizon),
    held: first.held,
  };
}

/** How far events have been pruned, and the oldest transaction still running (no cursor can be at or above it). */
export async function readStreamBounds(db: SqlRunner): Promise<{ pruned: EventPosition; horizon: bigint }> {
  const [row] = await db.query(
    `SELECT pruned_xid::text AS xid, pruned_id::text AS id, pg_snapshot_xmin(pg_current_snapshot())::text AS horizon FROM event_retention`,
  );
  return { pruned: { xid: BigInt(row.xid), id: BigInt(row.id) }, horizon: BigInt(row.horizon) };
}

/**
 * Deletes up to `limit` of the oldest events, in stream order, while they were written before `cutoff`, and moves
 * the retention mark to the last one deleted, in one transaction. Returns how many were deleted. Stream order is
 * nearly time order; stopping at the first younger event keeps the pruned part a prefix of the stream, so a
 * cursor is either before the mark (expired) or sees every event after it. `db` is a connection of its own
 * (the statements make one transaction on it).
 */
export async function pruneEvents(db: SqlRunner, cutoff: Date, limit: number): Promise<number> {
  await db.query('BEGIN');
  try {
    const [mark] = await db.query(`SELECT pruned_xid::text AS xid, pruned_id::text AS id FROM event_retention FOR UPDATE`);
    const rows: { xid: string; id: string; old: boolean }[] = await db.query(
      `SELECT xid::text AS xid, id::text AS id, created_at < $3 AS old FROM event_outbox
        WHERE (xid, id) > ($1::xid8, $2::bigint) AND xid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY xid, id LIMIT $4`,
      [mark.xid, mark.id, cutoff, limit],
    );
    const young = rows.findIndex((r) => !r.old);
    const doomed = young === -1 ? rows : rows.slice(0, young);
    if (doomed.length > 0) {
      const last = doomed[doomed.length - 1];
      await db.query(`DELETE FROM event_outbox WHERE (xid, id) > ($1::xid8, $2::bigint) AND (xid, id) <= ($3::xid8, $4::bigint)`,
        [mark.xid, mark.id, last.xid, last.id]);
      await db.query(`UPDATE event_retention SET pruned_xid = $1::xid8, pruned_id = $2::bigint`, [last.xid, last.id]);
    }
    await db.query('COMMIT');
    return doomed.length;
  } catch (e) {
    await db.query('ROLLBACK').catch(() => {});
    throw e;
  }
}
