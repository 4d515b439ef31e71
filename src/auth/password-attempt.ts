import type { GraphQLError } from 'graphql';
import type { RequestContext } from '../context';
import { loginGuard } from './login-guard';
import { lockouts, loginFailures } from '../observability/metrics';
import { verifyLoginPassword } from './password';

/** Records the attempt (login_attempt): whether it succeeded and why not. */
export type RecordAttempt = (succeeded: boolean, reason: string | null) => Promise<void>;

/** A password check that was admitted and made: its outcome must be settled with `fail` or `succeed`. */
export interface PasswordAttempt {
  /** Whether the password matched the hash given (always false without one). */
  passwordOk: boolean;
  /** Counts the attempt as a failure (which may lock the account) and records it with `reason`. */
  fail(reason: string): Promise<void>;
  /** Forgets the account's failures (the caller records the success). */
  succeed(): Promise<void>;
}

/**
 * The part of a sign-in that `login` and `authenticateUser` share, so both are
 * limited, locked and timed alike: the login guard admits the attempt for the
 * account key and the client address (a refusal is recorded and thrown, as
 * `refusal` maps it), then exactly one argon2 verification runs, against
 * `hash` or, when there is none (unknown identifier, no password, an account
 * the caller may not check), against the dummy hash. Which hash is checked
 * changes neither the answer's shape nor its cost.
 */
export async function attemptPassword(
  ctx: RequestContext,
  attempt: {
    account: string;
    hash: string | null;
    password: string;
    record: RecordAttempt;
    refusal?: (refused: { error: GraphQLError; reason: string }) => GraphQLError;
  },
): Promise<PasswordAttempt> {
  const guard = loginGuard(ctx.db);
  const admission = await guard.admitLogin(attempt.account, ctx.clientAddress);
  if ('refusal' in admission) {
    loginFailures.inc({ reason: admission.refusal.reason.startsWith('locked') ? 'locked' : 'throttled' });
    await attempt.record(false, admission.refusal.reason);
    throw attempt.refusal ? attempt.refusal(admission.refusal) : admission.refusal.error;
  }
  const { ticket } = admission;
  let passwordOk: boolean;
  try {
    passwordOk = await verifyLoginPassword(attempt.hash, attempt.password);
  } catch (e) {
    // The hash gate is full (TOO_MANY_REQUESTS) or argon2 failed: no password was checked.
    await guard.settle(ticket, 'cancelled');
    await attempt.record(false, 'server busy');
    throw e;
  }
  return {
    passwordOk,
    async fail(reason) {
      const locked = await guard.settle(ticket, 'failed');
      loginFailures.inc({ reason: 'credentials' });
      if (locked) lockouts.inc();
      await attempt.record(false, locked ? `${reason}; locked after ${guard.limits.maxFailures} consecutive failures` : reason);
    },
    async succeed() {
      await guard.settle(ticket, 'succeeded');
    },
  };
}
