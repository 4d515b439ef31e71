import type { Client } from '../common/client-key';

/**
 * Fair use of one instance. Every client (an operator, or a network address
 * before authentication) spends its requests' query cost from a budget that
 * refills at `ratePerSecond` up to `burst`. A request the budget cannot cover
 * yet waits until it can, so a client sending faster than its budget is
 * slowed down to it instead of crowding everyone else out. A request that
 * would have to wait longer than `maxWaitMs` waits that long and is then
 * refused (TOO_MANY_REQUESTS): answering it at once would let a client that
 * sends its next request as soon as it has an answer spin through refusals
 * as fast as the server can make them.
 *
 * The budget is the generic cell rate algorithm (GCRA): per client, the
 * moment its budget will be full again. Spending `cost` moves that moment
 * `cost / rate` later; a request may run once it lies at most
 * `burst / rate` ahead of now. One number per client, exact for any mix of
 * costs, and a waiting request has its share reserved, so waiters are served
 * in order. Budgets are per instance: N instances allow N times the rate.
 */
export interface Allowance {
  /** Cost points a client may spend per second, sustained. */
  ratePerSecond: number;
  /** Cost points a client may spend at once after being idle; at least the largest query cost. */
  burst: number;
}

export interface BudgetSettings {
  /** Staff sessions and API keys, each on its own. */
  operator: Allowance;
  /** Requests without credentials, per address (IPv6 per /64). */
  anonymous: Allowance;
  /** The longest a request waits for its budget; beyond, it is refused after that wait. */
  maxWaitMs: number;
}

export type Spent = { ok: true } | { ok: false; retryAfterMs: number };

export interface RequestBudget {
  /** Resolves once `client` has spent `cost` (at once, or after a wait), or, after `maxWaitMs`, with the time to wait. */
  spend(client: Client, cost: number): Promise<Spent>;
}

export function createRequestBudget(settings: BudgetSettings, now: () => number = Date.now): RequestBudget {
  const fullAt = new Map<string, number>();
  let spends = 0;
  return {
    async spend(client, cost) {
      const { ratePerSecond, burst } = client.anonymous ? settings.anonymous : settings.operator;
      const t = now();
      if (++spends % 10_000 === 0) forgetIdle(fullAt, t);
      const next = Math.max(fullAt.get(client.key) ?? t, t) + (cost / ratePerSecond) * 1000;
      const wait = next - (burst / ratePerSecond) * 1000 - t;
      if (wait > settings.maxWaitMs) {
        await sleep(settings.maxWaitMs);
        return { ok: false, retryAfterMs: wait - settings.maxWaitMs };
      }
      fullAt.set(client.key, next);
      if (wait > 0) await sleep(wait);
      return { ok: true };
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client whose budget is full again holds nothing worth keeping. */
function forgetIdle(fullAt: Map<string, number>, t: number): void {
  for (const [key, at] of fullAt) if (at <= t) fullAt.delete(key);
}
