import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';

/**
 * TOO_MANY_REQUESTS: the request was refused for now, not for good; the
 * client may try again after `retryAfterSeconds` (null: not before an
 * administrator acts). Apollo turns the `http` extension into the response's
 * status (429) and Retry-After header and leaves it out of the JSON.
 */
export function tooManyRequests(message: string, retryAfterSeconds: number | null): GraphQLError {
  const headers = new HeaderMap(retryAfterSeconds === null ? [] : [['retry-after', String(retryAfterSeconds)]]);
  return new GraphQLError(message, {
    extensions: { code: 'TOO_MANY_REQUESTS', retryAfterSeconds, http: { status: 429, headers } },
  });
}

/** Whole seconds to wait, at least 1, from milliseconds. */
export const secondsFrom = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));
