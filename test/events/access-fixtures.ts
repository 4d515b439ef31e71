import type { TestApp } from '../support/test-app';
import { Closed } from '../support/ws-client';

/**
 * What the subscription access tests share: the connection_init payloads of the two credentials, the root fields'
 * queries, and waiting (bounded) for a connection to be closed by the server.
 */

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
export const apiKey = (secret: string) => ({ 'x-api-key': secret });

/** Every root field with the fields the tests read; `user` lists the owned items the subscriber's scope lets it see. */
const USER_ITEMS = `user { id notes { id } blocks(activeOnly: false) { id } fines(status: [ACTIVE, IN_DISPUTE, CLOSED, TRANSFERRED]) { id } }`;
export const USER_CHANGED = `subscription($u: ID, $after: String) { userChanged(userId: $u, after: $after) {
  cursor type family userId ${USER_ITEMS} } }`;
export const BLOCK_OR_NOTE_CHANGED = `subscription($u: ID, $after: String) { blockOrNoteChanged(userId: $u, after: $after) {
  cursor type family itemId userId ${USER_ITEMS} } }`;
export const FINE_CHANGED = `subscription($u: ID, $after: String) { fineChanged(userId: $u, after: $after) {
  cursor type family fineId userId ${USER_ITEMS} } }`;

/** The events query with the same filter as a subscription: cursors and types, oldest first. */
export const EVENTS = `query($f: EventFilter, $after: String) { events(first: 500, filter: $f, after: $after) {
  edges { cursor node { type family } } pageInfo { endCursor } } }`;

/** The subscription root fields' families (src/events/event.service.ts SUBSCRIPTION_KINDS), for the events query's filter. */
export const FAMILIES = {
  userChanged: ['USER', 'NOTE', 'BLOCK', 'STATISTIC', 'ROLE'],
  blockOrNoteChanged: ['BLOCK', 'NOTE'],
  fineChanged: ['FINE'],
} as const;

/** How a connection or subscription ended, or null when it has not within `ms`. */
export async function endedWithin<T>(ended: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)));
  try {
    return await Promise.race([ended, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export type { Closed };

/** Runs a mutation or query and fails the test with its errors if it has any. */
export async function ok<T = any>(app: TestApp, query: string, variables: Record<string, unknown>, token: string): Promise<T> {
  const res = await app.gql<T>(query, variables, token);
  if (res.errors || !res.data) throw new Error(`request failed: ${JSON.stringify(res.errors)}`);
  return res.data;
}
