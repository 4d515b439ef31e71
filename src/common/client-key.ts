import type { Operator } from '../policy/operator';

/**
 * The client address as a key: an IPv4 address (mapped IPv6 forms included)
 * whole, an IPv6 address by its /64 network, since one host usually holds a
 * whole /64 and could otherwise take a fresh address per guess.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!address.includes(':')) return address;
  const [head, tail = ''] = address.split('%')[0].split('::');
  const groups = head ? head.split(':') : [];
  const rest = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const full = [...groups, ...Array(Math.max(0, 8 - groups.length - rest.length)).fill('0'), ...rest];
  return `${full.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

/**
 * Who a request is accounted to (src/server/request-budget.ts): the operator
 * once authenticated, else the network address it comes from.
 */
export interface Client {
  key: string;
  anonymous: boolean;
}

export function clientOf(operator: Operator | null, address: string | null): Client {
  if (operator) return { key: `${operator.kind === 'USER' ? 'user' : 'api-key'}:${operator.id}`, anonymous: false };
  return { key: `address:${address ? addressKey(address) : 'unknown'}`, anonymous: true };
}
