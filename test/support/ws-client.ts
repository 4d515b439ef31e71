import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

/** How a connection ended: the WebSocket close code and reason. */
export interface Closed {
  code: number;
  reason: string;
}

/** One subscription over a real graphql-ws connection, collecting what arrives. */
export interface Subscription<T = any> {
  /** Every `next` payload received so far, in order. */
  received: { data?: T; errors?: any[] }[];
  /** Resolves once `count` payloads have arrived in all (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<{ data?: T; errors?: any[] }[]>;
  /**
   * Resolves when the server sends an error for the subscription (a refused query), or completes it (with the
   * errors of a refusal when it starts), or the connection closes.
   */
  ended: Promise<{ errors?: any[]; closed?: Closed; completed?: boolean }>;
  /** Whether the server acknowledged the connection. */
  acknowledged: Promise<boolean>;
  dispose(): Promise<void>;
}

/** The graphql-ws URL of a server's HTTP GraphQL URL. */
export const wsUrl = (httpUrl: string) => httpUrl.replace(/^http/, 'ws');

/** A connection carrying one subscription: disposing of the subscription closes the connection. */
export function subscribe<T = any>(url: string, connectionParams: Record<string, unknown> | undefined, query: string, variables: Record<string, unknown> = {}): Subscription<T> {
  const connection = connect(url, connectionParams);
  return { ...connection.subscribe<T>(query, variables), dispose: connection.dispose };
}

/** Lets the server settle a moment (a subscription registered, a notification delivered). */
export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One graphql-ws connection that may carry several subscriptions at once (the per-connection limit). */
export interface Connection {
  /** Whether the server acknowledged the connection. */
  acknowledged: Promise<boolean>;
  /** Resolves when the connection closes, with its close code and reason. */
  closed: Promise<Closed>;
  /** Starts one more subscription on this connection. */
  subscribe<T = any>(query: string, variables?: Record<string, unknown>): Subscription<T>;
  dispose(): Promise<void>;
}

export function connect(url: string, connectionParams: Record<string, unknown> | undefined): Connection {
  let closedResolve!: (v: Closed) => void;
  const closed = new Promise<Closed>((r) => (closedResolve = r));
  let ackResolve!: (v: boolean) => void;
  const acknowledged = new Promise<boolean>((r) => (ackResolve = r));
  const client: Client = createClient({
    url: wsUrl(url),
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: false,
    on: {
      connected: () => ackResolve(true),
      closed: (event) => {
        const e = event as { code: number; reason: string };
        ackResolve(false);
        closedResolve({ code: e.code, reason: String(e.reason) });
      },
    },
    onNonLazyError: () => {},
  });
  return {
    acknowledged,
    closed,
    subscribe<T = any>(query: string, variables: Record<string, unknown> = {}): Subscription<T> {
      const received: { data?: T; errors?: any[] }[] = [];
      const waiters: { count: number; resolve: () => void }[] = [];
      let endedResolve!: (v: { errors?: any[]; closed?: Closed; completed?: boolean }) => void;
      const ended = new Promise<{ errors?: any[]; closed?: Closed; completed?: boolean }>((r) => (endedResolve = r));
      void closed.then((c) => endedResolve({ closed: c }));
      const unsubscribe = client.subscribe<T>({ query, variables }, {
        next: (value) => {
          received.push(value as { data?: T; errors?: any[] });
          for (const w of waiters.filter((w) => received.length >= w.count)) w.resolve();
        },
        error: (e) => endedResolve(Array.isArray(e) ? { errors: e } : { closed: e as unknown as Closed }),
        complete: () => endedResolve({ completed: true, errors: received.find((r) => r.errors && !r.data)?.errors }),
      });
      return {
        received,
        ended,
        acknowledged,
        waitFor(count, timeoutMs = 10_000) {
          if (received.length >= count) return Promise.resolve(received);
          return new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`expected ${count} events, got ${received.length}: ${JSON.stringify(received).slice(0, 2000)}`)), timeoutMs);
            waiters.push({ count, resolve: () => { clearTimeout(timer); resolve(received); } });
          });
        },
        dispose: async () => unsubscribe(),
      };
    },
    dispose: () => client.dispose() as Promise<void>,
  };
}
