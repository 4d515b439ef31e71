import crypto from 'node:crypto';
import type { GraphQLError } from 'graphql';
import type { DataSource } from 'typeorm';
import { loadConfig, LoginLimits } from '../config';
import { createThrottle, Hold, Throttle } from './throttle';
import { addressKey } from '../common/client-key';
import { tooManyRequests } from '../common/too-many-requests';

/**
 * What stands between a password guesser and argon2 (issue 9 findings 7 and
 * 11): sign-in failures counted per account and per client address, wrong
 * current passwords counted per user, with the limits of CARREL_LOGIN_*.
 *
 * The account key is the user when the identifier names exactly one, else
 * the identifier itself (normalised, case-insensitive, hashed): an unknown
 * identifier is throttled and locked exactly like a real one, so neither the
 * answers nor their timing tell whether an identifier exists. A locked
 * account refuses even the right password, with TOO_MANY_REQUESTS and the
 * same message whoever asks; only an administrator (unlockUser) or time
 * lifts it. The client address only ever waits: locking it would lock out a
 * whole campus behind one NAT address.
 */
export interface LoginGuard {
  limits: LoginLimits;
  /** Before a sign-in's password check: a ticket, or the refusal to answer with and the reason to record. */
  admitLogin(account: string, clientAddress: string | null): Promise<Admission>;
  /** Before changePassword's check of the current password, per user. */
  admitPasswordChange(userId: string): Promise<Admission>;
  /** Settles a ticket once its password check is done (or was never made). For `failed`, whether the account is now locked. */
  settle(ticket: Ticket, outcome: 'failed' | 'succeeded' | 'cancelled'): Promise<boolean>;
  /** Lifts every lockout and wait of a user: its account key, each identifier's key and its password changes. */
  unlock(userId: string, identifiers: readonly string[]): Promise<void>;
  /** What holds the user back now, on the keys `unlock` clears: locked, waiting after failures, or null when nothing. */
  holdOf(userId: string, identifiers: readonly string[]): Promise<Hold['kind'] | null>;
}

export interface Ticket {
  counted: { throttle: Throttle; key: string; count: number; locks: boolean }[];
}
export type Admission = { ticket: Ticket } | { refusal: { error: GraphQLError; reason: string } };

/** The account key of a sign-in: the one user it names, else the identifier as typed, case folded. */
export function accountKey(userId: string | null, identifier: string): string {
  if (userId) return `user:${userId}`;
  return `id:${crypto.createHash('sha256').update(identifier.normalize('NFKC').toLowerCase(), 'utf8').digest('hex')}`;
}

const seconds = (s: number) => `${s} second${s === 1 ? '' : 's'}`;
const MESSAGES = {
  locked: (s: number | null) => `Sign-in with this identifier is locked after too many failed attempts: ${
    s === null ? 'ask an administrator to unlock the account' : `try again in ${seconds(s)}, or ask an administrator to unlock the account`}`,
  account: (s: number) => `Too many failed attempts with this identifier: wait ${seconds(s)} before trying again`,
  address: (s: number) => `Too many failed sign-in attempts from your address: wait ${seconds(s)} before trying again`,
  passwordLocked: (s: number | null) => `Too many wrong current passwords: changePassword is locked${s === null ? ' until an administrator unlocks the account' : ` for ${seconds(s)}`}`,
  password: (s: number) => `Too many wrong current passwords: wait ${seconds(s)} before trying again`,
  racing: 'Too many attempts with this identifier at once: try again in a moment',
};

function refusalFor(hold: Hold, message: (s: number | null) => string, reason: string): Admission {
  return { refusal: { error: tooManyRequests(message(hold.retryAfterSeconds), hold.retryAfterSeconds), reason } };
}

export function createLoginGuard(db: DataSource, limits: LoginLimits): LoginGuard {
  const common = { delayMs: limits.delayMs, maxDelayMs: limits.maxDelayMs, lockoutSeconds: limits.lockoutSeconds };
  const accounts = createThrottle(db, 'account', {
    ...common, free: limits.freeFailures, maxFailures: limits.maxFailures, windowSeconds: limits.failureWindowSeconds,
  });
  const addresses = createThrottle(db, 'address', {
    ...common, free: limits.addressFreeFailures, maxFailures: 0, windowSeconds: limits.addressWindowSeconds,
  });
  const passwordChanges = createThrottle(db, 'password-change', {
    ...common, free: limits.freeFailures, maxFailures: limits.maxFailures, windowSeconds: limits.failureWindowSeconds,
  });

  /** Every key that holds a user back: its account, each of its identifiers (attempts that named it) and its password changes. */
  const userKeys = (userId: string, identifiers: readonly string[]) => [
    { throttle: accounts, key: accountKey(userId, '') },
    ...identifiers.map((i) => ({ throttle: accounts, key: accountKey(null, i) })),
    { throttle: passwordChanges, key: userId },
  ];

  /** Counts the attempt on each key; refuses (uncounting them) when parallel attempts already used up the account's failures. */
  async function reserve(keys: { throttle: Throttle; key: string; locks: boolean }[]): Promise<Admission> {
    const counted = await Promise.all(keys.map(async (k) => ({ ...k, count: await k.throttle.reserve(k.key) })));
    if (limits.maxFailures > 0 && counted.some((c) => c.locks && c.count > limits.maxFailures)) {
      await Promise.all(counted.map((c) => c.throttle.cancelled(c.key)));
      return { refusal: { error: tooManyRequests(MESSAGES.racing, 1), reason: 'throttled: too many attempts at once' } };
    }
    return { ticket: { counted } };
  }

  return {
    limits,
    async admitLogin(account, clientAddress) {
      const address = clientAddress ? addressKey(clientAddress) : null;
      const [onAccount, onAddress] = await Promise.all([accounts.hold(account), address ? addresses.hold(address) : null]);
      if (onAccount?.kind === 'locked') return refusalFor(onAccount, MESSAGES.locked, 'locked');
      if (onAccount) return refusalFor(onAccount, (s) => MESSAGES.account(s!), 'throttled: identifier');
      if (onAddress) return refusalFor(onAddress, (s) => MESSAGES.address(s!), 'throttled: address');
      return reserve([
        { throttle: accounts, key: account, locks: true },
        ...(address ? [{ throttle: addresses, key: address, locks: false }] : []),
      ]);
    },
    async admitPasswordChange(userId) {
      const hold = await passwordChanges.hold(userId);
      if (hold?.kind === 'locked') return refusalFor(hold, MESSAGES.passwordLocked, 'locked');
      if (hold) return refusalFor(hold, (s) => MESSAGES.password(s!), 'throttled');
      return reserve([{ throttle: passwordChanges, key: userId, locks: true }]);
    },
    async settle(ticket, outcome) {
      const locked = await Promise.all(ticket.counted.map(async ({ throttle, key, count, locks }) => {
        if (outcome === 'failed') return throttle.failed(key, count);
        // A success forgets the account's failures; the address keeps its count minus this attempt,
        // so that an attacker's own valid account cannot wipe the address's record.
        if (outcome === 'succeeded' && locks) await throttle.succeeded(key);
        else await throttle.cancelled(key);
        return false;
      }));
      return locked.some(Boolean);
    },
    async unlock(userId, identifiers) {
      await Promise.all(userKeys(userId, identifiers).map(({ throttle, key }) => throttle.clear(key)));
    },
    async holdOf(userId, identifiers) {
      const holds = await Promise.all(userKeys(userId, identifiers).map(({ throttle, key }) => throttle.hold(key)));
      return holds.some((h) => h?.kind === 'locked') ? 'locked' : holds.some((h) => h?.kind === 'waiting') ? 'waiting' : null;
    },
  };
}

const guards = new WeakMap<DataSource, LoginGuard>();

/** The guard of a database, made on first use with the CARREL_LOGIN_* limits. */
export function loginGuard(db: DataSource): LoginGuard {
  let guard = guards.get(db);
  if (!guard) {
    // 'tool': the command line unlocks users too, and the server's own settings were checked when it started.
    guard = createLoginGuard(db, loadConfig(process.env, 'tool').login);
    guards.set(db, guard);
  }
  return guard;
}
