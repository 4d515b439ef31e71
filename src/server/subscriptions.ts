import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApolloServerPlugin } from '@apollo/server';
import {
  DocumentNode, ExecutionResult, getOperationAST, GraphQLError, GraphQLFormattedError, GraphQLSchema, parse, specifiedRules, validate,
} from 'graphql';
import { CloseCode, Context, SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import type { DataSource } from 'typeorm';
import { authenticate, Authentication } from '../auth/authenticate';
import type { TokenIssuer } from '../auth/tokens';
import { contextOf, Credentials, RequestContext } from '../context';
import { markRetryableCode } from '../errors-format';
import { createSharedSubscribe } from '../events/event-execution';
import type { EventHub } from '../events/event-hub';
import type { Operator } from '../policy/operator';
import { maySubscribe } from '../policy/event-audience';
import { createPolicy } from '../policy/policy';
import { BODY_LIMIT_BYTES } from './http-errors';
import { createSharedPayloads } from './shared-payloads';
import { operationCost, QUERY_LIMITS, QUERY_TOO_COMPLEX, QueryLimits } from './query-limits';

export interface SubscriptionSettings {
  /** Events that may wait for one slow subscriber before its connection is closed. */
  bufferLimit: number;
  /** Subscriptions one connection may hold at once. */
  maxSubscriptionsPerConnection: number;
  /** How often every connection's credentials are read again (ms), for what no event announces (a role's end date). */
  recheckMs: number;
}


/** Close code for a subscriber that fell too far behind (the RFC 6455 range for applications, beside graphql-ws's own). */
export const SLOW_SUBSCRIBER = 4008;

interface Connection {
  socket: WebSocket;
  credentials: Credentials;
  operator: Operator;
  /** The contexts of its subscriptions by id, moved to the operator as read again. */
  contexts: Map<string, RequestContext>;
  expiry: NodeJS.Timeout | null;
  /** The re-read of its credentials in progress, if any: its subscriptions hold their reads until it settles. */
  settling: Promise<void> | null;
  /** Its periodic re-read. */
  recheck: NodeJS.Timeout | null;
}

/** A WebSocket close reason holds at most 123 bytes. */
function closeReason(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= 123 ? text : `${bytes.subarray(0, 120).toString('utf8').replace(/\uFFFD+$/, '')}...`;
}

/** How long a closed connection's client may take to read what was sent before the close frame (a slow one may never). */
const CLOSE_GRACE_MS = 10_000;

function close(socket: WebSocket, code: number, reason: string): void {
  if (socket.readyState !== WebSocket.OPEN && socket.readyState !== WebSocket.CONNECTING) return;
  socket.close(code, closeReason(reason));
  // A client that stopped reading never reads the close frame either: its socket and buffers go after a grace period.
  setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
}

/** The credentials of a connection_init payload: the same two as HTTP headers, names in any case. */
function credentialsOfParams(params: Record<string, unknown> | undefined): Credentials {
  const lower = new Map(Object.entries(params ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { authorization: text(lower.get('authorization')), apiKey: text(lower.get('x-api-key') ?? lower.get('apikey')) };
}

/** Why credentials fail, as the protocol's close code: 4401 for credentials to renew, 4403 for an operator who may not act. */
function refusal(auth: Authentication): { code: number; reason: string } | null {
  if (auth.operator === null) return { code: auth.forbidden ? CloseCode.Forbidden : CloseCode.Unauthorized, reason: auth.failure ?? 'Invalid credentials' };
  if (auth.operator.passwordChangeRequired) return { code: CloseCode.Forbidden, reason: 'A password change is required first: use changePassword over HTTP' };
  return null;
}

const requestError = (message: string, code: string, extra: Record<string, unknown> = {}) => new GraphQLError(message, { extensions: { code, ...extra } });

/**
 * An Apollo plugin: a subscription sent over HTTP is refused before it executes (BAD_USER_INPUT, 400). Apollo would
 * run it as a query, with no event for its root field to resolve.
 */
export function subscriptionsOverHttpRefused(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError('Subscriptions run over the graphql-ws protocol (WebSocket) on this path, not over HTTP: see the README', {
            extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
          });
        },
      };
    },
  };
}

export interface SubscriptionServerOptions {
  httpServer: http.Server;
  schema: GraphQLSchema;
  db: DataSource;
  tokens: TokenIssuer;
  hub: EventHub;
  limits: QueryLimits;
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
  settings: SubscriptionSettings;
}

/**
 * GraphQL subscriptions over the graphql-ws protocol on the HTTP server's
 * `/graphql`. A connection authenticates once, in its connection_init
 * payload, like an HTTP request (a bearer token or an API key); every
 * subscription is parsed, validated and costed with the limits of HTTP
 * operations. The connection's operator is read again when an event concerns
 * it (deactivation, roles, sessions ended, a key revoked), every `recheckMs`,
 * and when its token expires; credentials no longer accepted close the
 * connection with 4401 or 4403 and the reason.
 */
export function attachSubscriptions(options: SubscriptionServerOptions) {
  const { db, tokens, hub, settings } = options;
  // Upgrades are taken from the HTTP server by hand: given the server itself, ws re-emits its errors (a busy port)
  // as the WebSocket server's, which graphql-ws then reports as an internal error of its own.
  const wss = new WebSocketServer({ noServer: true, maxPayload: BODY_LIMIT_BYTES });
  options.httpServer.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(request.url ?? '/', 'http://carrel').pathname !== '/graphql') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });
  const connections = new Map<WebSocket, Connection>();
  /** The connections of each operator (user or API key id): events about it reach them without a scan. */
  const byOperator = new Map<string, Set<Connection>>();
  const register = (connection: Connection) => {
    connections.set(connection.socket, connection);
    const own = byOperator.get(connection.operator.id) ?? new Set();
    byOperator.set(connection.operator.id, own.add(connection));
    // Each connection on its own timer, from its own start: the re-reads of many connections spread out.
    connection.recheck = setInterval(() => reread(connection), settings.recheckMs);
    connection.recheck.unref();
  };
  const unregister = (socket: WebSocket) => {
    const connection = connections.get(socket);
    if (!connection) return;
    connections.delete(socket);
    for (const timer of [connection.expiry, connection.recheck]) if (timer) clearTimeout(timer);
    const own = byOperator.get(connection.operator.id);
    own?.delete(connection);
    if (own?.size === 0) byOperator.delete(connection.operator.id);
  };

  const contextFor = (operator: Operator) => contextOf(db, tokens, operator);
  const subscribe = createSharedSubscribe(contextFor);

  const watchExpiry = (connection: Connection, expiresAt: Date | undefined) => {
    if (connection.expiry) clearTimeout(connection.expiry);
    connection.expiry = null;
    if (!expiresAt) return;
    // setTimeout holds at most 2^31-1 ms (24.8 days); a longer token is read again by then.
    const wait = Math.min(Math.max(expiresAt.getTime() - Date.now(), 0), 2 ** 31 - 1);
    connection.expiry = setTimeout(() => reread(connection), wait + 50);
    connection.expiry.unref();
  };

  /**
   * Reads the connection's credentials again, and marks it settling meanwhile, synchronously: the watch below
   * runs before the subscriptions' listeners in the same read, so they hold what follows an event about the operator.
   */
  function reread(connection: Connection): void {
    const settled: Promise<void> = recheck(connection).catch(() => {}).then(() => {
      if (connection.settling === settled) connection.settling = null;
    });
    connection.settling = settled;
  }

  async function recheck(connection: Connection): Promise<void> {
    if (connection.socket.readyState !== WebSocket.OPEN) return;
    let auth: Authentication;
    try {
      auth = await authenticate(db.manager, tokens, connection.credentials);
    } catch {
      return; // The database is away: the next recheck decides.
    }
    const refused = refusal(auth);
    if (refused || !auth.operator) {
      close(connection.socket, refused!.code, refused!.reason);
      return;
    }
    // An operator who may no longer subscribe has nothing left to receive.
    const operator = auth.operator;
    if (!maySubscribe(createPolicy(() => operator))) {
      close(connection.socket, CloseCode.Forbidden, 'Your roles no longer allow user.read, which every subscription needs');
      return;
    }
    connection.operator = operator;
    for (const ctx of connection.contexts.values()) ctx.actAs(operator);
    watchExpiry(connection, auth.expiresAt);
  }

  // Events about a connected operator (its roles, status, sessions; a key revoked) make it read its credentials again.
  const unlisten = hub.listen((batch) => {
    const due = new Set<Connection>();
    for (const { row } of batch.views) {
      if (row.aggregateType === 'USER' || row.aggregateType === 'API_KEY') for (const c of byOperator.get(row.aggregateId) ?? []) due.add(c);
    }
    for (const connection of due) reread(connection);
  });

  // A statement timeout or a lost database connection is retryable here too (src/errors-format.ts), never masked.
  const formatted = (errors: readonly GraphQLError[]) => errors.map((e) => {
    markRetryableCode(e);
    return options.formatError(e.toJSON(), e);
  });

  const payloads = createSharedPayloads();
  // Registered before graphql-ws's own listener, so every socket's send is wrapped before graphql-ws sends on it.
  wss.on('connection', (socket: WebSocket) => payloads.attach(socket));
  const server = useServer<Record<string, unknown>, { socket: WebSocket; request: http.IncomingMessage }>({
    schema: options.schema,
    async onConnect(ctx) {
      const { socket } = ctx.extra;
      const credentials = credentialsOfParams(ctx.connectionParams);
      if (!credentials.authorization && !credentials.apiKey) {
        close(socket, CloseCode.Unauthorized, 'Send credentials in connection_init: {"authorization": "Bearer <token>"} or {"x-api-key": "<key>"}');
        return false;
      }
      const auth = await authenticate(db.manager, tokens, credentials);
      const refused = refusal(auth);
      if (refused || !auth.operator) {
        close(socket, refused!.code, refused!.reason);
        return false;
      }
      const connection: Connection = { socket, credentials, operator: auth.operator, contexts: new Map(), expiry: null, settling: null, recheck: null };
      register(connection);
      watchExpiry(connection, auth.expiresAt);
      return true;
    },
    onClose(ctx) {
      unregister(ctx.extra.socket);
    },
    onSubscribe(ctx: Context<Record<string, unknown>, { socket: WebSocket; request: http.IncomingMessage }>, id: string, payload: SubscribePayload) {
      const connection = connections.get(ctx.extra.socket);
      if (!connection) return [requestError('The connection is not authenticated', 'UNAUTHENTICATED')];
      // graphql-ws has already counted this subscription.
      if (Object.keys(ctx.subscriptions).length > settings.maxSubscriptionsPerConnection) {
        return [requestError(`At most ${settings.maxSubscriptionsPerConnection} subscriptions per connection`, 'BAD_USER_INPUT',
          { limit: settings.maxSubscriptionsPerConnection })];
      }
      return prepare(connection, id, payload);
    },
    onComplete(ctx, id) {
      connections.get(ctx.extra.socket)?.contexts.delete(id);
    },
    subscribe: (args) => subscribe(args),
    // A result with errors is formatted for this subscriber; the others are serialised once for all who share them.
    onNext: (ctx, _id, _payload, _args, result: ExecutionResult) =>
      (result.errors ? { ...result, errors: formatted(result.errors) } : payloads.marker(ctx.extra.socket, result)) as ExecutionResult,
    onError: (_ctx, _id, _payload, errors) => formatted(errors),
  }, wss);

  /** The HTTP path's checks, in order: tokens while parsing, then validation with the depth, alias and directive rules, then the cost. */
  function prepare(connection: Connection, id: string, payload: SubscribePayload) {
    let document: DocumentNode;
    try {
      document = parse(payload.query, options.limits.parseOptions);
    } catch (e) {
      const error = e as GraphQLError;
      const limit = /tokens/.test(error.message) ? { limit: QUERY_LIMITS.maxTokens } : {};
      return [requestError(error.message, limit.limit ? 'BAD_USER_INPUT' : 'GRAPHQL_PARSE_FAILED', limit)];
    }
    const errors = validate(options.schema, document, [...specifiedRules, ...options.limits.validationRules]);
    if (errors.length > 0) {
      return errors.map((e) => requestError(e.message, 'GRAPHQL_VALIDATION_FAILED', { ...e.extensions }));
    }
    const operation = getOperationAST(document, payload.operationName);
    if (!operation) return [requestError('Name the operation to run (operationName)', 'BAD_USER_INPUT')];
    if (operation.operation !== 'subscription') {
      return [requestError('Only subscriptions run over WebSocket: send queries and mutations over HTTP', 'BAD_USER_INPUT')];
    }
    let cost: number;
    try {
      cost = operationCost(options.schema, document, operation, payload.operationName ?? undefined, payload.variables ?? {});
    } catch (e) {
      return [e as GraphQLError];
    }
    if (cost > QUERY_LIMITS.maxCost) {
      return [requestError(`Query cost ${cost} exceeds the maximum of ${QUERY_LIMITS.maxCost}`, QUERY_TOO_COMPLEX,
        { cost, limit: QUERY_LIMITS.maxCost })];
    }
    const contextValue = contextFor(connection.operator);
    contextValue.subscription = {
      hub,
      bufferLimit: settings.bufferLimit,
      close: (code, reason) => close(connection.socket, code, reason),
      settling: () => connection.settling,
    };
    connection.contexts.set(id, contextValue);
    return { schema: options.schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
  }

  return {
    /** For Apollo's drain: closes every connection (1001, going away) and the WebSocket server. */
    plugin: {
      async serverWillStart() {
        return {
          async drainServer() {
            unlisten();
            await server.dispose();
          },
        };
      },
    } as ApolloServerPlugin<RequestContext>,
    connectionCount: () => connections.size,
    /** Subscriptions running on every connection (the metrics). */
    subscriptionCount: () => [...connections.values()].reduce((n, c) => n + c.contexts.size, 0),
  };
}
