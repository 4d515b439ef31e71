import { unauthenticated } from '../common/errors';
import type { RequestContext } from '../context';
import { isTechnicalAccount } from '../policy/protected-accounts';
import { accountKey } from './login-guard';
import { findLoginCandidates, LoginCandidate, recordLoginAttempt } from './operator.repository';
import { attemptPassword } from './password-attempt';

const failed = () => unauthenticated('User authentication failed');

/**
 * Why the caller may not learn whether the password of the user the identifier names is right, or null when it may:
 * decided before any password is checked, so an account the answer may not be about never has its password tested.
 */
function ineligibility(ctx: RequestContext, candidates: readonly LoginCandidate[]): string | null {
  if (candidates.length > 1) return 'identifier matches several users';
  const [candidate] = candidates;
  if (!candidate) return 'unknown identifier';
  // R4.5: the technical accounts never sign in as staff; no partner has a reason to check their passwords either.
  if (isTechnicalAccount(candidate.primaryIdentifier)) return 'technical account';
  // Desk and fulfilment roles reach patrons only: a staff user is to them as if it did not exist.
  if (!ctx.policy.can('user.authenticate', candidate)) {
    return `outside the grant of ${ctx.policy.authenticated().label}`;
  }
  if (!candidate.passwordHash) return 'no password';
  if (!candidate.active) return 'inactive or expired';
  return null;
}

/**
 * authenticateUser (R11.2, R1.4, R1.5): a partner checks a user's password. The lookup is login's, confined to the
 * caller's institution; the attempt is limited, locked and timed by the same guard as login (password-attempt.ts),
 * and one lockout counts both, so alternating the two gives a guesser no more tries.
 *
 * Every failure is the same UNAUTHENTICATED "User authentication failed" after one argon2 verification: against the
 * user's hash when the caller may learn the answer, else against the dummy hash, so neither the answer nor its timing
 * tells an unknown identifier from a staff user a desk key may not check or an inactive patron. An account locked
 * after too many failures answers the same (a lockout, like an unknown identifier, depends only on past attempts).
 * Waits after failures and a busy password check stay TOO_MANY_REQUESTS: the partner must slow down, and they are
 * the same for every identifier. Nothing is changed but the attempt's record and the sign-in counts: no session, no
 * token, no event.
 */
export async function authenticateUser(ctx: RequestContext, args: { identifier: string; password: string }): Promise<boolean> {
  const operator = ctx.policy.assert('user.authenticate');
  const db = ctx.db.manager;
  const candidates = await findLoginCandidates(db, args.identifier, operator.institutionCode);
  const record = async (succeeded: boolean, reason: string | null) => {
    for (const c of candidates.length ? candidates : [undefined]) {
      await recordLoginAttempt(db, {
        institutionId: operator.institutionId, userId: c?.id ?? null, identifier: args.identifier, succeeded, reason,
        partner: { requestedBy: operator.label },
      });
    }
  };
  const refusal = ineligibility(ctx, candidates);
  const candidate = candidates.length === 1 ? candidates[0] : undefined;
  const attempt = await attemptPassword(ctx, {
    account: accountKey(candidate?.id ?? null, args.identifier),
    hash: refusal ? null : candidate!.passwordHash,
    password: args.password,
    record,
    refusal: (refused) => (refused.reason === 'locked' ? failed() : refused.error),
  });
  if (refusal || !attempt.passwordOk) {
    await attempt.fail(refusal ?? 'wrong password');
    throw failed();
  }
  await attempt.succeed();
  await record(true, null);
  return true;
}
