import busboy from 'busboy';
import { logger } from '../observability/logger';
import type { Express, Request, RequestHandler, Response } from 'express';
import type { DataSource } from 'typeorm';
import type { TokenIssuer } from '../auth/tokens';
import type { AttachmentSettings } from '../config';
import { buildContext, credentialsOf, RequestContext } from '../context';
import { isKnownError } from '../common/errors';
import { markRetryableCode } from '../errors-format';
import { allowMethods } from '../server/http-errors';
import { addAttachment, FileRefused, getAttachmentContent, listAttachments, removeAttachment } from './attachment.service';
import { contentDisposition } from './file-name';

/**
 * Attachments over HTTP beside /graphql (files do not belong in a JSON body):
 *   POST   /users/:userId/attachments  multipart/form-data, one part named "file"  -> 201 and the attachment
 *   GET    /users/:userId/attachments  -> { attachments: [...] }
 *   GET    /attachments/:id            -> the file
 *   DELETE /attachments/:id            -> 204
 * The same credentials as /graphql (Authorization: Bearer, X-API-Key), the same policy through the same services,
 * and refusals as JSON in the GraphQL error shape. Credentials travel only in headers, never in cookies, so a
 * cross-site form post (which cannot set a header) arrives without any and is refused 401: no CSRF token is needed.
 */
export interface AttachmentRoutesOptions {
  db: DataSource;
  tokens: TokenIssuer;
  settings: AttachmentSettings;
}

/** The room a multipart envelope around the file may take (boundaries, part headers) beyond the file's own limit. */
const ENVELOPE_BYTES = 64 * 1024;

const STATUS: Record<string, number> = {
  BAD_USER_INPUT: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409,
  TIMEOUT: 503, SERVICE_UNAVAILABLE: 503, TRANSACTION_CONFLICT: 503,
};
const HTTP_CODES: Record<number, string> = { 400: 'BAD_USER_INPUT', 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE', 429: 'TOO_MANY_REQUESTS' };

/** How many files of the largest size may be received at once by one process: each is held whole in memory until stored. */
const UPLOADS_IN_MEMORY = 8;

function sendError(res: Response, status: number, message: string, extensions: Record<string, unknown>): void {
  if (status === 503 || status === 429) res.set('Retry-After', '1');
  res.status(status).type('application/json; charset=utf-8').send(JSON.stringify({ errors: [{ message, extensions }] }));
}

/** A failure as its HTTP answer: the policy's and services' refusals by their code, the file's by its status. */
function answerFailure(res: Response, e: unknown): void {
  if (e instanceof FileRefused || e instanceof HttpRefusal) {
    const about = e instanceof FileRefused ? { field: 'file' } : e.status === 429 ? { retryAfterSeconds: 1 } : {};
    return sendError(res, e.status, e.message, { code: HTTP_CODES[e.status], ...about });
  }
  if (isKnownError(e)) {
    const { code, field, limit } = e.extensions as { code: string; field?: string; limit?: unknown };
    return sendError(res, STATUS[code] ?? 400, e.message, { code, ...(field ? { field } : {}), ...(limit !== undefined ? { limit } : {}) });
  }
  if (e instanceof Error && markRetryableCode(e)) {
    const { code } = (e as Error & { extensions: { code: string } }).extensions;
    return sendError(res, 503, 'The database is busy or unavailable: retry in a moment.', { code, retryable: true });
  }
  logger().error({ err: e }, 'internal error');
  sendError(res, 500, 'Internal server error', { code: 'INTERNAL_SERVER_ERROR' });
}

/** A refusal of the request's form (not multipart, no file part, over the size limit). */
class HttpRefusal extends Error {
  constructor(readonly status: 400 | 413 | 415 | 429, message: string) {
    super(message);
  }
}

/** Runs `work` with the request's context, authenticated from its headers as /graphql authenticates. */
function withContext(options: AttachmentRoutesOptions, work: (ctx: RequestContext, req: Request, res: Response) => Promise<void>): RequestHandler {
  return async (req, res) => {
    try {
      const ctx = await buildContext(options.db, options.tokens, credentialsOf(req.headers), req.ip);
      await work(ctx, req, res);
    } catch (e) {
      if (res.headersSent) req.socket.destroy();
      else answerFailure(res, e);
    }
  };
}

/**
 * The one part named "file" of a multipart body, held in memory up to `maxBytes`: beyond that the rest is read and
 * dropped (so the client gets the 413 instead of a reset connection) up to a bound, past which the connection is
 * closed. Nothing is stored before the whole file is in.
 */
function readFilePart(req: Request, maxBytes: number): Promise<{ fileName: string | undefined; content: Buffer }> {
  return new Promise((resolve, reject) => {
    if (!req.is('multipart/form-data')) {
      reject(new HttpRefusal(415, 'Send the file as multipart/form-data with one part named "file"'));
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes + ENVELOPE_BYTES) {
      // Node reads and drops the rest of the body after the answer; a client still sending after 5 s is cut off.
      req.socket.setTimeout(5000, () => req.socket.destroy());
      reject(new HttpRefusal(413, `The file is larger than the limit of ${maxBytes} bytes`));
      return;
    }
    // One byte over the limit tells a file of exactly the limit from a larger one. Other fields are ignored, but busboy
    // holds each in memory: 1 KiB each at most (the rest is dropped), so they cannot add megabytes beside the file.
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, defParamCharset: 'utf8', limits: { files: 1, fileSize: maxBytes + 1, fields: 10, fieldSize: 1024, parts: 11 } });
    } catch {
      reject(new HttpRefusal(400, 'The multipart body has no boundary'));
      return;
    }
    let file: { fileName: string | undefined; chunks: Buffer[] } | null = null;
    let refusal: HttpRefusal | null = null;
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      // A client that keeps sending after the refusal: stop reading it.
      if (refusal && received > 4 * (maxBytes + ENVELOPE_BYTES)) req.socket.destroy();
    });
    parser.on('file', (name, stream, info) => {
      // A body that ends inside a file (truncated, or the client gone) errors the part's stream as well as the parser;
      // the parser's error answers the request, and an 'error' nobody listens to would end the process.
      stream.on('error', () => {});
      if (name !== 'file' || file) {
        refusal ??= new HttpRefusal(400, 'Send exactly one file, in a part named "file"');
        stream.resume();
        return;
      }
      const current = { fileName: info.filename, chunks: [] as Buffer[] };
      file = current;
      stream.on('data', (chunk: Buffer) => {
        if (!refusal) current.chunks.push(chunk);
      });
      stream.on('limit', () => {
        refusal = new HttpRefusal(413, `The file is larger than the limit of ${maxBytes} bytes`);
        current.chunks = [];
      });
    });
    parser.on('filesLimit', () => {
      refusal ??= new HttpRefusal(400, 'Send exactly one file, in a part named "file"');
    });
    parser.on('error', () => reject(new HttpRefusal(400, 'The multipart body is malformed')));
    parser.on('close', () => {
      if (refusal) return reject(refusal);
      const found = file as { fileName: string | undefined; chunks: Buffer[] } | null;
      if (!found) return reject(new HttpRefusal(400, 'The body has no part named "file"'));
      resolve({ fileName: found.fileName, content: Buffer.concat(found.chunks) });
    });
    // A client that goes away mid-body never ends the parser's input: end it here, so the request settles (as malformed).
    req.on('close', () => {
      if (!req.complete) parser.destroy();
    });
    req.pipe(parser);
  });
}

/** Adds the attachment routes to `app` (before its catch-all 404). */
export function mountAttachmentRoutes(app: Express, options: AttachmentRoutesOptions): void {
  const { maxBytes, maxPerUser } = options.settings;
  // Bytes of uploads being received or stored: without a bound, enough clients sending large files at once would
  // exhaust the process's memory. An upload reserves its declared length (a chunked one the largest file's) or waits.
  const memoryRoom = UPLOADS_IN_MEMORY * (maxBytes + ENVELOPE_BYTES);
  let reserved = 0;
  const reserve = (req: Request): (() => void) => {
    const declared = Number(req.headers['content-length']);
    const bytes = Number.isFinite(declared) && declared >= 0 ? Math.min(declared, maxBytes + ENVELOPE_BYTES) : maxBytes + ENVELOPE_BYTES;
    if (reserved + bytes > memoryRoom) throw new HttpRefusal(429, 'Too many files are being uploaded at once: retry in a moment');
    reserved += bytes;
    let released = false;
    return () => {
      if (!released) reserved -= bytes;
      released = true;
    };
  };
  app.all('/users/:userId/attachments', allowMethods('GET', 'POST'), withContext(options, async (ctx, req, res) => {
    const userId = String(req.params.userId);
    if (req.method === 'GET') {
      res.set('Cache-Control', 'no-store').json({ attachments: await listAttachments(ctx, userId) });
      return;
    }
    // Who asks is known before the body is read: an operator without the grant never gets to send a file.
    ctx.policy.assert('attachment.manage');
    const release = reserve(req);
    try {
      const upload = await readFilePart(req, maxBytes);
      const attachment = await addAttachment(ctx, userId, upload, maxPerUser);
      res.status(201).set('Location', attachment.downloadUrl).set('Cache-Control', 'no-store').json(attachment);
    } finally {
      release();
    }
  }));
  app.all('/attachments/:id', allowMethods('GET', 'DELETE'), withContext(options, async (ctx, req, res) => {
    const id = String(req.params.id);
    if (req.method === 'DELETE') {
      await removeAttachment(ctx, id);
      res.status(204).end();
      return;
    }
    const file = await getAttachmentContent(ctx, id);
    res.status(200).set({
      'Content-Type': file.mediaType,
      'Content-Length': String(file.content.length),
      'Content-Disposition': contentDisposition(file.fileName),
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
      // Opened in a browser tab anyway: no script, no plugin, no same-origin access.
      'Content-Security-Policy': "default-src 'none'; sandbox",
    }).end(file.content);
  }));
}
