/**
 * How webhooks are delivered (src/webhooks/webhook-worker.ts). Read from the environment by config.ts; tests pass
 * their own through the server's options, so that a retry window runs in a second, not a day.
 */
export interface WebhookSettings {
  /** Plain http to a loopback host is accepted: CARREL_WEBHOOK_ALLOW_HTTP, by default outside production only. */
  allowHttp: boolean;
  /** How long one request may take before it counts as failed (ms): CARREL_WEBHOOK_TIMEOUT_MS. */
  timeoutMs: number;
  /** The first retry's delay (ms), doubling per failed attempt: CARREL_WEBHOOK_RETRY_BASE_MS. */
  retryBaseMs: number;
  /** The longest delay between two attempts (ms): CARREL_WEBHOOK_RETRY_MAX_MS. */
  retryMaxMs: number;
  /** How long the event at a webhook's head may keep failing before the webhook is disabled (ms): CARREL_WEBHOOK_RETRY_WINDOW_SECONDS. */
  retryWindowMs: number;
  /** How often each instance looks for work without a notification (ms): CARREL_WEBHOOK_POLL_MS. */
  pollMs: number;
  /** Webhooks one instance delivers to at once (each one event at a time, in order): CARREL_WEBHOOK_CONCURRENCY. */
  concurrency: number;
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  allowHttp: false,
  timeoutMs: 10_000,
  retryBaseMs: 5_000,
  retryMaxMs: 3_600_000,
  retryWindowMs: 24 * 3_600_000,
  pollMs: 5_000,
  concurrency: 8,
};
