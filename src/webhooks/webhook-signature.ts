import crypto from 'node:crypto';

/**
 * `X-Carrel-Signature`: `sha256=` and the hex HMAC-SHA256, keyed with the webhook's secret, of the
 * `X-Carrel-Timestamp` value (Unix seconds), a dot, and the raw request body. Signing the timestamp with the body
 * lets a receiver refuse a captured request replayed later (the README shows the check).
 */
export function signatureOf(secret: string, timestamp: number, body: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/**
 * `X-Carrel-Signature-Body`: `sha256=` and the hex HMAC-SHA256 of the raw body alone, for receivers whose webhook
 * library checks a signature over the body (as the issue words it). It proves the same sender but not when it was
 * sent: a receiver that can should check `X-Carrel-Signature`, which also refuses replays.
 */
export function bodySignatureOf(secret: string, body: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** At least 16 characters; a shorter key would make the signature guessable. */
export const MIN_SECRET_LENGTH = 16;
export const MAX_SECRET_LENGTH = 200;

/** What lists show of a secret: its first characters, enough to tell two apart, never enough to sign with. */
export const secretHint = (secret: string): string => `${[...secret].slice(0, 4).join('')}…`;

/**
 * The id of the delivery of one event to one webhook, the same on every attempt and every instance (a receiver
 * drops repeats by it): a UUID-shaped digest of the webhook and the event's position.
 */
export function deliveryIdOf(webhookId: string, xid: string, id: string): string {
  const hex = crypto.createHash('sha256').update(`${webhookId}:${xid}:${id}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
