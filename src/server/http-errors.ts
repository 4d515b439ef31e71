import http from 'node:http';
import { logger } from '../observability/logger';
import type { Duplex } from 'node:stream';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { GraphQLFormattedError } from 'graphql';

/**
 * Failures that happen before GraphQL gets the request (a body over the limit, malformed JSON, a method or content
 * type the endpoint does not take, an unknown path, a malformed HTTP request) are answered here, as JSON in the
 * GraphQL error shape, in development and production alike. express's own error pages are HTML with a stack trace
 * and the server's paths, and clients of a GraphQL endpoint expect `{"errors": [...]}` whatever went wrong.
 */

/** The largest request body accepted (express.json's `limit`). */
export const BODY_LIMIT_BYTES = 1024 * 1024;

const CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  431: 'REQUEST_HEADER_FIELDS_TOO_LARGE',
  500: 'INTERNAL_SERVER_ERROR',
};

/** `{"errors":[{"message", "extensions": {"code"}}]}`: the body of every refusal made outside GraphQL. */
export function errorBody(status: number, message: string): string {
  return JSON.stringify({ errors: [{ message, extensions: { code: CODES[status] ?? CODES[status < 500 ? 400 : 500] } }] });
}

function sendError(res: Response, status: number, message: string): void {
  res.status(status).type('application/json; charset=utf-8').send(errorBody(status, message));
}

/**
 * Lets `methods` through; OPTIONS is answered with the methods the path takes, any other method with 405. express
 * would otherwise hand PUT or DELETE to Apollo (a 405 carrying a stack trace in development) or answer with HTML.
 */
export function allowMethods(...methods: string[]): RequestHandler {
  const allow = methods.join(', ');
  return (req, res, next) => {
    if (methods.includes(req.method)) return next();
    res.set('Allow', allow);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    sendError(res, 405, `${req.method} is not supported here: use ${methods.join(' or ')}.`);
  };
}

/**
 * A POST body must be JSON. Without this, express.json skips any other type and Apollo answers with "POST body
 * missing"; a body-less POST still goes on, so Apollo's CSRF check and its own message apply.
 */
export const requireJsonBody: RequestHandler = (req, res, next) => {
  if (req.method !== 'POST' || req.is('application/json') !== false) return next();
  sendError(res, 415, `The request body must be JSON: send it with the header Content-Type: application/json.`);
};

/** The last route: any path the server does not serve. */
export const notFound: RequestHandler = (req, res) => {
  sendError(res, 404, `Nothing is served at ${req.path}: the GraphQL endpoint is /graphql, the health check /health.`);
};

/** body-parser's error types, as the client's mistake they describe. */
const BODY_ERRORS: Record<string, [status: number, message: string]> = {
  'entity.too.large': [413, `The request body is larger than the limit of ${BODY_LIMIT_BYTES / (1024 * 1024)} MB.`],
  'entity.parse.failed': [400, 'The request body is not valid JSON (a GraphQL request is a JSON object).'],
  'charset.unsupported': [415, 'The request body must be JSON encoded as UTF-8.'],
  'encoding.unsupported': [415, 'The request body has a Content-Encoding the server does not take: send it uncompressed, gzip, deflate or br.'],
  'request.aborted': [400, 'The request body ended early.'],
  'request.size.invalid': [400, 'The request body is not as long as its Content-Length says.'],
};

/**
 * express's error handler: the body parser's refusals become their 4xx answer; anything else is the server's fault,
 * logged for the operator and answered "Internal server error" (the same words as a masked GraphQL error).
 */
export function httpErrorHandler(): ErrorRequestHandler {
  return (err, req, res, _next) => {
    // Part of an answer is out already: nothing sensible can follow it on this connection.
    if (res.headersSent) {
      req.socket.destroy();
      return;
    }
    const known = typeof err?.type === 'string' ? BODY_ERRORS[err.type] : undefined;
    if (known) return sendError(res, known[0], known[1]);
    const status = Number(err?.status ?? err?.statusCode);
    if (status >= 400 && status < 500) return sendError(res, status, http.STATUS_CODES[status] ?? 'Bad Request');
      logger().error({ err: err }, 'internal error');
    sendError(res, 500, 'Internal server error');
  };
}

/**
 * A request Node's HTTP parser refuses (headers over its limit, not HTTP at all, too slow) never reaches express: Node
 * answers with an empty 400/431/408. This answers the same statuses with the JSON body every other refusal has.
 */
export function answerClientErrorsWithJson(server: http.Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A response on this connection already started (a bad request pipelined after a good one): write nothing into it.
    const inFlight = (socket as Duplex & { _httpMessage?: http.ServerResponse })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const message =
      status === 431 ? 'The request headers are larger than the server accepts.'
      : status === 408 ? 'The request took too long to arrive.'
      : 'The request is not valid HTTP.';
    const body = errorBody(status, message);
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n`
        + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

/**
 * Apollo's own refusals of a request it cannot run (CSRF prevention, a batch, a GET without a query, malformed
 * `variables` in the URL) have the code BAD_REQUEST; in development their stacktrace shows only Apollo's internals
 * and the server's paths, never anything about the client's query, so it is dropped. Other errors keep theirs.
 */
export function withoutRequestRefusalStacks(format: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    if (formatted.extensions?.code !== 'BAD_REQUEST' || !('stacktrace' in formatted.extensions)) return format(formatted, error);
    const { stacktrace: _dropped, ...extensions } = formatted.extensions;
    return format({ ...formatted, extensions }, error);
  };
}
