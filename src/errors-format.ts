import { ApolloServerPlugin, BaseContext, HeaderMap } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import { logger } from './observability/logger';
import { statementTimeouts } from './observability/metrics';
import { currentRequest } from './observability/request-record';

/**
 * Database failures a client may simply retry, by the code they are answered with (`extensions.retryable: true`,
 * HTTP 503 with Retry-After) and the message they get instead of the driver's text (SQL, host names, ports).
 */
const RETRYABLE = {
  /** A statement cancelled by the statement timeout (57014) or a lock not granted in time (55P03). */
  TIMEOUT: 'The database took too long to answer and the request was cancelled (statement timeout): retry later, or ask for less.',
  /** The connection was lost or refused, the server is starting or stopping, or it has no connection left. */
  SERVICE_UNAVAILABLE: 'The database is unavailable (restarting, unreachable or out of connections): retry in a moment.',
  /** A serialization failure (40001) or a deadlock (40P01): the transaction was rolled back whole. */
  TRANSACTION_CONFLICT: 'The change collided with a concurrent change and was rolled back: retry it.',
} as const;
type RetryableCode = keyof typeof RETRYABLE;

/** Node's socket errors of a connection to the database, and node-postgres's own words for a lost connection. */
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const LOST_CONNECTION = /^Connection terminated|is not queryable|^timeout exceeded when trying to connect/;

/** The retryable code of a failure, found on it or on what it wraps (GraphQL's originalError, TypeORM's driverError ...). */
function retryableCode(error: unknown, depth = 0): RetryableCode | null {
  // Not `instanceof Error`: errors of Node's sockets come from another realm under a VM (jest).
  if (typeof error !== 'object' || error === null || depth > 5) return null;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code === '57014' || code === '55P03') return 'TIMEOUT';
  if (code === '40001' || code === '40P01') return 'TRANSACTION_CONFLICT';
  if (typeof code === 'string' && (/^08...$/.test(code) || ['57P01', '57P02', '57P03', '53300'].includes(code) || SOCKET_ERRORS.has(code))) {
    return 'SERVICE_UNAVAILABLE';
  }
  if (typeof message === 'string' && LOST_CONNECTION.test(message)) return 'SERVICE_UNAVAILABLE';
  const wrapped = error as { originalError?: unknown; driverError?: unknown; cause?: unknown; errors?: unknown };
  const inner = [wrapped.originalError, wrapped.driverError, wrapped.cause, ...(Array.isArray(wrapped.errors) ? wrapped.errors : [])];
  for (const cause of inner) {
    const found = retryableCode(cause, depth + 1);
    if (found) return found;
  }
  return null;
}

/**
 * Gives a retryable database failure its code, `retryable: true` and its HTTP answer, which Apollo reads from
 * `extensions.http` (and removes) before formatError runs: the status cannot be set later.
 */
function markRetryable(error: Error): void {
  if (!markRetryableCode(error)) return;
  const target = error as Error & { extensions: Record<string, unknown> };
  target.extensions.http = { status: 503, headers: new HeaderMap([['retry-after', '1']]) };
}

/**
 * Gives a retryable database failure its code and `retryable: true`; returns whether it is one. Over HTTP
 * (retryableErrorsPlugin) and over the subscriptions' WebSocket alike, where no HTTP status follows.
 */
export function markRetryableCode(error: Error): boolean {
  const code = retryableCode(error);
  if (!code) return false;
  const target = error as Error & { extensions?: Record<string, unknown> };
  if (code === 'TIMEOUT' && target.extensions?.code !== code) statementTimeouts.inc();
  target.extensions = Object.assign(target.extensions ?? {}, { code, retryable: true });
  return true;
}

/**
 * Answers a database failure a client can retry (a statement timeout, a lost or refused connection, a database
 * starting up or out of connections, a deadlock) with its code and HTTP 503, where it would otherwise be an
 * INTERNAL_SERVER_ERROR: in a resolver, and while building the context (authentication reads the database).
 */
export function retryableErrorsPlugin(): ApolloServerPlugin<BaseContext> {
  return {
    async contextCreationDidFail({ error }) {
      // Apollo wraps this error in a GraphQLError, which takes over its extensions.
      markRetryable(error);
    },
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) markRetryable(error);
        },
      };
    },
  };
}

/**
 * Codes that describe the client's own mistake, safe to show in production; the retryable failures (RETRYABLE) are
 * shown too, with a message of ours. Everything else (a bug, another database failure) is replaced by a generic
 * message so no stack trace or SQL text reaches a client.
 */
const CLIENT_CODES = new Set([
  'BAD_USER_INPUT', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT',
  'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'QUERY_TOO_COMPLEX', 'TOO_MANY_REQUESTS', 'CURSOR_EXPIRED',
]);

export function formatError(production: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && Object.hasOwn(RETRYABLE, code)) {
      // The operator's log keeps the cause; the client gets our words (the driver's name hosts, ports and statements).
      if (production) logger().warn({ err: error, code }, 'database failure answered as retryable');
      return { ...formatted, message: RETRYABLE[code as RetryableCode] };
    }
    if (typeof code === 'string' && CLIENT_CODES.has(code)) return formatted;
    if (!production) return formatted;
    logger().error({ err: error, reqId: currentRequest()?.id }, 'internal error');
    return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}
