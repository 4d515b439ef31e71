import { GraphQLError } from 'graphql';

/**
 * The error codes clients can rely on (extensions.code). Every refusal Carrel
 * makes on purpose is one of these; anything else is masked in production.
 */
export type ErrorCode = 'BAD_USER_INPUT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'CURSOR_EXPIRED';

function error(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

/**
 * Invalid input; `field` is the input path of the offending value (e.g. `input.emails[0].address`);
 * `limit` the documented maximum it exceeds, when that is why.
 */
export const badInput = (field: string, message: string, extra: { limit?: number | string } = {}) => error('BAD_USER_INPUT', message, { field, ...extra });
export const unauthenticated = (message = 'Authentication required: send Authorization: Bearer <token> (staff) or X-API-Key: <key> (partner systems)') =>
  error('UNAUTHENTICATED', message);
export const forbidden = (message: string, extra: { field?: string } = {}) => error('FORBIDDEN', message, extra);
export const notFound = (message: string, extra: { field?: string } = {}) => error('NOT_FOUND', message, extra);
export const conflict = (message: string, extra: { field?: string; value?: string } = {}) => error('CONFLICT', message, extra);

/** An `after` cursor from before the events' retention period: what it would resume from is gone. */
export const cursorExpired = (field: string, message: string) => error('CURSOR_EXPIRED', message, { field });

export function isKnownError(e: unknown): e is GraphQLError {
  return e instanceof GraphQLError && typeof e.extensions?.code === 'string';
}
