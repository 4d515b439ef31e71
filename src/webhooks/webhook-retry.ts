import type { WebhookSettings } from './webhook-settings';

/**
 * How long to wait before the next attempt at a failing event, after `failures` failed attempts: the base delay
 * doubling per failure up to the cap (5 s, 10 s, 20 s ... 1 h by default), with jitter (between half and all of
 * it), so that the receivers of many webhooks coming back at once are not hit by all of them in the same second.
 */
export function retryDelayMs(failures: number, settings: Pick<WebhookSettings, 'retryBaseMs' | 'retryMaxMs'>, random = Math.random): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 40);
  const full = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** exponent);
  return Math.max(1, Math.round(full / 2 + random() * (full / 2)));
}
