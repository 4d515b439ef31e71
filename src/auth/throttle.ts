import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import { secondsFrom } from '../common/too-many-requests';

/**
 * Counted failures with growing waits and a lockout (issue 9 findings 7 and
 * 11), kept by rate-limiter-flexible in PostgreSQL (table login_throttle,
 * created by a migration) so every instance of the server shares them.
 *
 * One throttle counts one kind of failure (sign-ins per account, sign-ins
 * per client address, wrong current passwords per user). An attempt is
 * counted before it is checked (`reserve`), so parallel attempts cannot slip
 * past the count: between two successes at most `maxFailures` attempts of a
 * key ever reach a password check. After `free` failures each failure makes
 * the key wait before the next attempt (`delayMs`, doubling up to
 * `maxDelayMs`); the `maxFailures`-th locks it for `lockoutSeconds` (0:
 * until cleared). Failures are forgotten `windowSeconds` after the first.
 */
export interface ThrottleRule {
  free: number;
  /** 0: never lock. */
  maxFailures: number;
  lockoutSeconds: number;
  windowSeconds: number;
  delayMs: number;
  maxDelayMs: number;
}

/** Why a key may not try now: locked, or waiting after its last failure; null seconds: until cleared. */
export interface Hold {
  kind: 'locked' | 'waiting';
  retryAfterSeconds: number | null;
}

export interface Throttle {
  /** The hold on `key`, or null when it may try now. */
  hold(key: string): Promise<Hold | null>;
  /** Counts an attempt about to be checked; returns how many are counted, this one included. */
  reserve(key: string): Promise<number>;
  /** The reserved attempt failed (it was the `count`-th): makes the key wait, or locks it. Returns whether it is now locked. */
  failed(key: string, count: number): Promise<boolean>;
  /** The reserved attempt succeeded: failures and waits are forgotten (a lockout is not: it is checked before). */
  succeeded(key: string): Promise<void>;
  /** The reserved attempt was never checked (refused for another reason): it does not count. */
  cancelled(key: string): Promise<void>;
  /** Forgets everything about the key, lockout included (an administrator unlocks an account). */
  clear(key: string): Promise<void>;
}

const TABLE = 'login_throttle';

/** A limiter on the shared table; `duration` is how long a count lives, from its first point. */
function limiter(db: DataSource, keyPrefix: string, duration: number, clearExpired: boolean): RateLimiterPostgres {
  return new RateLimiterPostgres({
    storeClient: db,
    storeType: 'typeorm',
    tableName: TABLE,
    tableCreated: true,
    keyPrefix,
    points: 1,
    duration,
    clearExpiredByTimeout: clearExpired,
  });
}

/** The wait after the `count`-th failure, `free` of them without one. */
export function delayAfter(rule: ThrottleRule, count: number): number {
  const step = count - rule.free;
  if (step < 1) return 0;
  return Math.min(rule.maxDelayMs, rule.delayMs * 2 ** Math.min(step - 1, 30));
}

const holdOf = (kind: Hold['kind'], res: RateLimiterRes | null): Hold | null =>
  res ? { kind, retryAfterSeconds: res.msBeforeNext < 0 ? null : secondsFrom(res.msBeforeNext) } : null;

export function createThrottle(db: DataSource, name: string, rule: ThrottleRule): Throttle {
  const failures = limiter(db, `${name}:fail`, rule.windowSeconds, name === 'account');
  // Waits and lockouts are blocks: a row per key that expires when the block ends (never for a lockout of 0 s).
  const waits = limiter(db, `${name}:wait`, 1, false);
  const locks = limiter(db, `${name}:lock`, 1, false);
  return {
    async hold(key) {
      const [lock, wait] = await Promise.all([locks.get(key), waits.get(key)]);
      return holdOf('locked', lock) ?? holdOf('waiting', wait);
    },
    async reserve(key) {
      return (await failures.penalty(key, 1)).consumedPoints;
    },
    async failed(key, count) {
      if (rule.maxFailures > 0 && count >= rule.maxFailures) {
        await locks.block(key, rule.lockoutSeconds);
        await Promise.all([failures.delete(key), waits.delete(key)]);
        return true;
      }
      const delay = delayAfter(rule, count);
      if (delay > 0) await waits.block(key, delay / 1000);
      return false;
    },
    async succeeded(key) {
      await Promise.all([failures.delete(key), waits.delete(key)]);
    },
    async cancelled(key) {
      await failures.reward(key, 1);
    },
    async clear(key) {
      await Promise.all([failures.delete(key), waits.delete(key), locks.delete(key)]);
    },
  };
}
