import { isIP } from 'node:net';
import { badInput } from '../common/errors';

/** Longest URL accepted; the SDL's @limit refuses longer input before it gets here. */
export const MAX_URL_LENGTH = 2000;

/** The IPv4 address a host names, also inside an IPv6 address that embeds one (`::ffff:7f00:1` is 127.0.0.1); else null. */
function ipv4Of(host: string): string | null {
  if (isIP(host) === 4) return host;
  const embedded = /^::(?:ffff:)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (!embedded) return null;
  const [high, low] = [parseInt(embedded[1], 16), parseInt(embedded[2], 16)];
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** The host as URL parses it, without IPv6 brackets and a trailing root dot (`localhost.` is localhost). */
const bareHost = (hostname: string): string => hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();

/** Whether `hostname` is this machine by name or address: localhost, 127.0.0.0/8, ::1 (as URL parses it). */
function isLoopback(hostname: string): boolean {
  const host = bareHost(hostname);
  return host === 'localhost' || host === '::1' || ipv4Of(host)?.startsWith('127.') === true;
}

/**
 * Whether `hostname` reaches this machine or its link without naming a partner: loopback, the unspecified address
 * (0.0.0.0 and :: connect to this machine), and link-local addresses (169.254.0.0/16, where clouds serve instance
 * metadata and credentials; fe80::/10).
 */
function isLocal(hostname: string): boolean {
  if (isLoopback(hostname)) return true;
  const host = bareHost(hostname);
  const v4 = ipv4Of(host);
  if (v4) return v4.startsWith('0.') || v4.startsWith('169.254.');
  return isIP(host) === 6 && (host === '::' || /^fe[89ab][0-9a-f]:/.test(host));
}

/**
 * A webhook's URL as it will be requested, or BAD_USER_INPUT naming `field`. Absolute https only, since the body
 * carries personal data and the signature proves only who sent it, not who read it on the way; plain http only to
 * this machine and only when the server allows it (`allowHttp`: development, tests). Where it does not, no scheme
 * reaches this machine or a link-local address (instance metadata): the server's own requests must not be turned
 * against the services only it can reach. No user name or password: a credential in a URL ends up in logs and lists
 * (use the signature to authenticate Carrel instead). No fragment: it is never sent.
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
  // Where receivers on this machine are not allowed (production), https does not make this machine or its link a partner.
  if (!allowHttp && isLocal(url.hostname)) {
    throw badInput(field, 'The URL names this machine or a link-local address: a webhook delivers to a partner system\'s host');
  }
  if (url.username || url.password) throw badInput(field, 'The URL must not hold a user name or password: receivers authenticate Carrel by the signature');
  if (url.hash || text.includes('#')) throw badInput(field, 'The URL must not have a fragment (#...): it is never sent');
  return url.href;
}
