import crypto from 'node:crypto';
import http from 'node:http';

/** One request the receiver got, as the partner would see it. */
export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The raw body, exactly as signed. */
  raw: string;
  body: any;
  /** What the receiver answered. */
  status: number;
}

/** How the receiver answers the n-th request (0-based): a status, or a redirect to another path. */
export type Answer = (request: Received, index: number) => number | { redirect: string };

/**
 * A partner's endpoint for the tests: a real HTTP server on a free loopback port that records every request and
 * answers as told (200 unless `answer` says otherwise).
 */
export interface Receiver {
  url(path?: string): string;
  received: Received[];
  answer: Answer;
  /** Resolves once `count` requests that `match` have arrived (fails after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number, match?: (r: Received) => boolean): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(answer: Answer = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  const receiver: Receiver = {
    url: (path = '/hook') => `http://127.0.0.1:${(server.address() as { port: number }).port}${path}`,
    received,
    answer,
    async waitFor(count, timeoutMs = 10_000, match = () => true) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = received.filter(match);
        if (matching.length >= count) return matching;
        if (Date.now() > deadline) throw new Error(`expected ${count} webhook requests, got ${matching.length}: ${JSON.stringify(received.map((r) => [r.path, r.status, r.body?.event?.type]))}`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
          setTimeout(wake, 50);
        });
      }
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      try {
        body = JSON.parse(raw);
      } catch {
        body = null;
      }
      const request: Received = { path: req.url ?? '', headers: req.headers, raw, body, status: 0 };
      const decided = receiver.answer(request, received.length);
      received.push(request);
      if (typeof decided === 'number') {
        request.status = decided;
        res.writeHead(decided, { 'content-type': 'text/plain' }).end('ok');
      } else {
        request.status = 302;
        res.writeHead(302, { location: receiver.url(decided.redirect) }).end();
      }
      for (const wake of [...waiters]) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return receiver;
}

/** The check a partner makes (README): HMAC-SHA256 of `${timestamp}.${raw body}` with the secret, compared in constant time. */
export function signatureIsValid(secret: string, request: Received): boolean {
  const timestamp = String(request.headers['x-carrel-timestamp']);
  const expected = Buffer.from(`sha256=${crypto.createHmac('sha256', secret).update(`${timestamp}.${request.raw}`).digest('hex')}`);
  const given = Buffer.from(String(request.headers['x-carrel-signature']));
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}
