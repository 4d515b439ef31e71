/** What came of one POST: a 2xx, or why not. */
export interface RequestOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** Most of a response body read (and dropped) so the connection can be reused; the rest is cut off. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** A network failure as the log names it: its class, never a stack. */
function describeFailure(e: unknown, timeoutMs: number): string {
  const error = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (error.name === 'TimeoutError') return `timeout after ${timeoutMs} ms`;
  const code = error.cause?.code;
  switch (code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ECONNRESET': return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN': return 'host not found';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT': return `timeout after ${timeoutMs} ms`;
    default:
      if (code && /CERT|TLS|SSL/.test(code)) return `TLS: ${code}`;
      return `network error: ${(code ?? error.cause?.message ?? error.message ?? 'unknown').slice(0, 200)}`;
  }
}

/**
 * POSTs `body` to `url`. Redirects are never followed (a 3xx is a failure: only the registered URL receives
 * events); the whole exchange is bounded by `timeoutMs`; `abort` cuts it short (the server stopping).
 */
export async function postEvent(url: string, headers: Record<string, string>, body: string, timeoutMs: number, abort: AbortSignal): Promise<RequestOutcome> {
  const started = performance.now();
  const duration = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), abort]) });
    let read = 0;
    if (res.body) {
      for await (const chunk of res.body) {
        read += (chunk as Uint8Array).length;
        if (read > MAX_RESPONSE_BYTES) break;
      }
    }
    if (res.status >= 200 && res.status < 300) return { ok: true, statusCode: res.status, error: null, durationMs: duration() };
    const error = res.status >= 300 && res.status < 400 ? `redirect not followed (HTTP ${res.status})` : `HTTP ${res.status}`;
    return { ok: false, statusCode: res.status, error, durationMs: duration() };
  } catch (e) {
    return { ok: false, statusCode: null, error: describeFailure(e, timeoutMs), durationMs: duration() };
  }
}
