import type { DataSource } from 'typeorm';
import { authenticate } from './auth/authenticate';
import { Client, clientOf } from './common/client-key';
import type { TokenIssuer } from './auth/tokens';
import { createLoaders, Loaders } from './loaders';
import type { Operator } from './policy/operator';
import { createPolicy, Policy } from './policy/policy';
import type { EventHub } from './events/event-hub';

/**
 * What every resolver receives: who is asking (through the policy), the
 * per-request loaders and the database. Apollo copies this object per
 * operation, so the parts that change on login are objects shared by the
 * copies, never reassigned properties.
 */
export interface RequestContext {
  db: DataSource;
  tokens: TokenIssuer;
  policy: Policy;
  /** Per-request DataLoaders bound to the operator's institution and scope; using them requires an operator. */
  loaders: Loaders;
  /** After a successful login, the rest of the same request (the login payload's fields) runs as the new operator. */
  actAs(operator: Operator): void;
  /** Who the request is accounted to for the request budget: the operator it started as, else its address. */
  client: Client;
  /** The client's address (express req.ip: the socket's peer unless CARREL_TRUST_PROXY names trusted proxies), for login throttling. */
  clientAddress: string | null;
  /**
   * Whether reads of users embed the children the query selects in their own statement (users/user-children.ts).
   * Always on, except in the test that compares the answers with and without it.
   */
  readAhead: boolean;
  /** Over a graphql-ws connection only: what subscriptions need (server/subscriptions.ts). */
  subscription?: SubscriptionChannel;
}

/** What a subscription's root field needs from the connection it runs on. */
export interface SubscriptionChannel {
  hub: EventHub;
  /** Most events that may wait for this subscriber before its connection is closed. */
  bufferLimit: number;
  /** Closes the connection (a slow subscriber), with a WebSocket close code and a reason. */
  close(code: number, reason: string): void;
  /** While the connection reads its operator again, the promise of that re-read (see event-stream.ts). */
  settling(): Promise<void> | null;
}

/** The credentials a request may carry: a staff bearer token or a partner system's API key. */
export interface Credentials {
  authorization?: string;
  apiKey?: string;
}

export function credentialsOf(headers: Record<string, string | string[] | undefined>): Credentials {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  return { authorization: first(headers.authorization), apiKey: first(headers['x-api-key']) };
}

export async function buildContext(db: DataSource, tokens: TokenIssuer, credentials: Credentials, clientAddress?: string): Promise<RequestContext> {
  const auth = await authenticate(db.manager, tokens, credentials);
  return contextOf(db, tokens, auth.operator, auth.operator ? undefined : auth.failure, clientAddress);
}

/** The context of an operator already authenticated (a subscription's connection), or of none (with why not). */
export function contextOf(db: DataSource, tokens: TokenIssuer, start: Operator | null, failure?: string, clientAddress?: string): RequestContext {
  let operator = start;
  const policy = createPolicy(() => operator, failure);
  let current: Loaders | null = operator ? createLoaders(db.manager, operator) : null;
  const loaders = new Proxy({} as Loaders, {
    get(_target, key) {
      policy.authenticated();
      return current![key as keyof Loaders];
    },
  });
  return {
    db,
    tokens,
    policy,
    loaders,
    actAs(next) {
      operator = next;
      current = createLoaders(db.manager, next);
    },
    client: clientOf(start, clientAddress ?? null),
    clientAddress: clientAddress ?? null,
    readAhead: true,
  };
}
