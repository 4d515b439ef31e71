import { isIP } from 'node:net';
import { badInput } from '../common/errors';

/** Longest URL accepted; the SDL's @limit refuses longer input before it gets here. */
export const MAX_URL_LENGTH = 2000;

/** Whether `hostname` (as URL parses it: IPv6 in brackets) is this machine: 127.0.0.0/8, ::1 or localhost. */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return isIP(host) === 6 && (host === '::1' || host === '0:0:0:0:0:0:0:1');
}

/**
 * A webhook's URL as it will be requested, or BAD_USER_INPUT naming `field`. Absolute https only, since the body
 * carries personal data and the signature proves only who sent it, not who read it on the way; plain http only to
 * this machine and only when the server allows it (`allowHttp`: development, tests). No user name or password: a
 * credential in a URL ends up in logs and lists (use the signature to authenticate Carrel instead). No fragment:
 * it is never sent.
 */
export function checkWebhookUrl(text: string, allowHttp: boolean, field: string): string {
  if (text.length > MAX_URL_LENGTH) throw badInput(field, `The URL is longer than ${MAX_URL_LENGTH} characters`, { limit: MAX_URL_LENGTH });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badInput(field, 'Not an absolute URL: give https://host/path');
  }
  if (url.protocol === 'http:') {
    if (!allowHttp) throw badInput(field, 'The URL must use https');
    if (!isLoopback(url.hostname)) throw badInput(field, 'Plain http is allowed only to this machine (127.0.0.1, ::1, localhost): use https');
  } else if (url.protocol !== 'https:') {
    throw badInput(field, `The URL must use https, not ${url.protocol.replace(/:$/, '')}`);
  }
  if (!url.hostname) throw badInput(field, 'The URL has no host');
  if (url.username || url.password) throw badInput(field, 'The URL must not hold a user name or password: receivers authenticate Carrel by the signature');
  if (url.hash || text.includes('#')) throw badInput(field, 'The URL must not have a fragment (#...): it is never sent');
  return url.href;
}
