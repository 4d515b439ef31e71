import type { Request, RequestHandler, Response } from 'express';
import { logger } from './logger';
import { anonymousOperationLabel, httpDuration, httpRequests, methodLabel, operationDuration, operationLabel, operations } from './metrics';
import { elapsedMs, recordRequests, RequestRecord } from './request-record';

/**
 * One log line and the request metrics per HTTP request, written when its response ends (or its client leaves).
 * Health checks and scrapes, which a load balancer and Prometheus send every few seconds, are logged at debug.
 */
export function requestLog(): RequestHandler {
  return recordRequests(endOf);
}

const QUIET_ROUTES = new Set(['/health', '/health/live', '/health/ready', '/metrics']);

function endOf(record: RequestRecord, req: Request, res: Response): void {
  const ms = elapsedMs(record);
  // express's pattern, not the path: a path carries ids (attachments) and clients can send any number of them.
  const route = typeof req.route?.path === 'string' ? req.route.path : 'unmatched';
  const status = res.headersSent ? res.statusCode : 0;
  const codes = [...record.codes];
  const ok = codes.length === 0 && status > 0 && status < 400;
  const method = methodLabel(record.method);
  httpRequests.inc({ method, route, status });
  httpDuration.observe({ method, route, status }, ms / 1000);
  if (record.operationType !== null || route === '/graphql') {
    const labels = {
      operation: (record.operator === null ? anonymousOperationLabel : operationLabel)(record.operationName),
      type: record.operationType ?? '(unknown)',
      result: codes[0] ?? (ok ? 'ok' : `HTTP_${status}`),
    };
    operations.inc(labels);
    operationDuration.observe(labels, ms / 1000);
  }
  const line = {
    reqId: record.id,
    method: record.method,
    route,
    status,
    durationMs: Math.round(ms * 10) / 10,
    sql: record.statements,
    ...(record.operationType !== null || record.operationName !== null ? { operation: record.operationName, operationType: record.operationType } : {}),
    ...(record.operator ? { [record.operator.kind === 'API_KEY' ? 'apiKeyId' : 'operatorId']: record.operator.id } : {}),
    result: ok ? 'ok' : 'error',
    ...(codes.length > 0 ? { errorCodes: codes } : {}),
    // The client left before the answer was sent (or while it was).
    ...(res.writableFinished ? {} : { aborted: true }),
  };
  const message = `${record.method} ${route}${record.operationName ? ` ${record.operationName}` : ''} ${status} ${line.result} ${line.durationMs} ms`;
  // A probe of an instance that is not ready comes every few seconds: a warning each time, not an error.
  const level = QUIET_ROUTES.has(route) ? (status >= 500 ? 'warn' : 'debug') : status >= 500 ? 'error' : 'info';
  logger()[level](line, message);
}
