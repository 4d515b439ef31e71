import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Who may read `/metrics` (src/observability/metrics-route.ts): with CARREL_METRICS_TOKEN set, only a request whose
 * `Authorization` is `Bearer <that token>` (scheme in any case, RFC 7235; never a query string); with none set, anyone
 * who reaches the port, which is then the metrics port of its own on 127.0.0.1 unless configured otherwise (the main
 * port never serves /metrics without a token). The comparison takes the same time whatever was sent.
 */
export function metricsAccess(token: string | undefined): (authorization: string | undefined) => boolean {
  if (token === undefined) return () => true;
  const expected = digest(token);
  return (authorization) => {
    const given = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
    return given !== undefined && timingSafeEqual(digest(given), expected);
  };
}

/** Equal-length values for timingSafeEqual, whatever was sent. */
const digest = (value: string) => createHash('sha256').update(value).digest();
