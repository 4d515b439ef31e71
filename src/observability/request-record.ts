import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

/**
 * What is known of one HTTP request while it runs, filled in by the layers it passes through: express (id, route,
 * status), Apollo (operation, operator, error codes) and the SQL logger (statements). When the response ends it
 * becomes one log line and the request metrics (request-log.ts).
 */
export interface RequestRecord {
  id: string;
  method: string;
  startedAt: bigint;
  statements: number;
  operationName: string | null;
  operationType: string | null;
  operator: { kind: string; id: string } | null;
  /** The errors' extensions.code values, each once. */
  codes: Set<string>;
}

const requests = new AsyncLocalStorage<RequestRecord>();
const RECORD = Symbol('carrel.requestRecord');

/** The record of the request this code runs for, if any (a job's statements have none). */
export function currentRequest(): RequestRecord | undefined {
  return requests.getStore();
}

/**
 * A client's x-request-id is kept when it is a plain token of at most 128 characters (a UUID, a trace id, a load
 * balancer's id), so one id follows the request through the proxies' logs and ours; anything else (overlong, a line
 * break, a quote) would end up verbatim in every log line and is replaced by a fresh UUID.
 */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(given: string | string[] | undefined): string {
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Opens the record, returns the id in x-request-id, and calls `onEnd` once the response is sent or the client gone. */
export function recordRequests(onEnd: (record: RequestRecord, req: Parameters<RequestHandler>[0], res: Parameters<RequestHandler>[1]) => void): RequestHandler {
  return (req, res, next) => {
    const record: RequestRecord = {
      id: requestIdOf(req.headers['x-request-id']),
      method: req.method,
      startedAt: process.hrtime.bigint(),
      statements: 0,
      operationName: null,
      operationType: null,
      operator: null,
      codes: new Set(),
    };
    res.setHeader('x-request-id', record.id);
    (req as unknown as Record<symbol, RequestRecord>)[RECORD] = record;
    res.once('close', () => onEnd(record, req, res));
    requests.run(record, next);
  };
}

/**
 * The body parser calls `next` from the request stream's events, outside the context `recordRequests` opened:
 * this middleware, placed after it, re-enters the record so that the statements of the operation are counted.
 */
export const resumeRequestRecord: RequestHandler = (req, _res, next) => {
  const record = (req as unknown as Record<symbol, RequestRecord | undefined>)[RECORD];
  if (record) requests.run(record, next);
  else next();
};

export function elapsedMs(record: RequestRecord): number {
  return Number(process.hrtime.bigint() - record.startedAt) / 1e6;
}
