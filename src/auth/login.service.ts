import { unauthenticated } from '../common/errors';
import type { RequestContext } from '../context';
import { staffSessionRefusal } from '../policy/staff-session';
import { toOperator } from './authenticate';
import { accountKey } from './login-guard';
import { findLoginCandidates, findOperatorRow, recordLoginAttempt } from './operator.repository';
import { attemptPassword } from './password-attempt';
import { sessionsEpoch } from './sessions.repository';

const WRONG = 'Invalid identifier or password';

/**
 * Staff login (R1.4, R4.5). Every attempt is recorded, successful or not
 * (R11.1), in its own statement so a refusal is still logged.
 *
 * Before any password is checked the login guard (login-guard.ts) may refuse
 * the attempt with TOO_MANY_REQUESTS: the account or identifier is locked
 * after too many failures, or must wait after its last ones, or the client
 * address must wait. Those refusals are recorded too ('locked', 'throttled:
 * ...') and cost no argon2 work; they depend only on past attempts with the
 * same identifier or address, never on whether the identifier exists.
 *
 * Every credential refusal that does reach the check (unknown identifier,
 * identifier in several institutions, account without a password, wrong
 * password) costs one argon2 verification and gets the same UNAUTHENTICATED
 * message, so neither the answer nor its timing tells which identifiers
 * exist. Only a correct password learns why a session is refused (inactive,
 * no staff role ...).
 */
export async function login(ctx: RequestContext, args: { identifier: string; password: string; institution?: string | null }) {
  const db = ctx.db.manager;
  const candidates = await findLoginCandidates(db, args.identifier, args.institution ?? null);
  const candidate = candidates.length === 1 ? candidates[0] : undefined;
  const record = async (succeeded: boolean, reason: string | null) => {
    // An ambiguous identifier is recorded against each user it matched, in its institution.
    for (const c of candidates.length ? candidates : [undefined]) {
      await recordLoginAttempt(db, { institutionId: c?.institutionId ?? null, userId: c?.id ?? null, identifier: args.identifier, succeeded, reason });
    }
  };

  // One verification whatever matched: against the dummy hash when there is no
  // single user or it has no password, which then is false for any password.
  const attempt = await attemptPassword(ctx, {
    account: accountKey(candidate?.id ?? null, args.identifier), hash: candidate?.passwordHash ?? null, password: args.password, record,
  });
  const refuse = async (reason: string) => {
    await attempt.fail(reason);
    return unauthenticated(WRONG);
  };
  if (candidates.length > 1) {
    throw await refuse(args.institution == null ? 'identifier in several institutions; no institution code given' : 'identifier matches several users');
  }
  if (!candidate) throw await refuse('unknown identifier');
  if (!candidate.passwordHash) throw await refuse('no password');
  if (!attempt.passwordOk) throw await refuse('wrong password');

  // The password is right: the account's failures are forgotten, whatever follows.
  await attempt.succeed();
  const row = await findOperatorRow(db, candidate.id);
  const refusal = row ? staffSessionRefusal(row) : 'unknown user';
  if (!row || refusal) {
    await record(false, refusal!);
    throw unauthenticated(`Login refused: ${refusal}`);
  }
  await record(true, null);
  const operator = toOperator(row);
  ctx.actAs(operator);
  const issued = ctx.tokens.sign({ sub: row.id, sva: sessionsEpoch(row.sessionsValidAfter) });
  const user = await ctx.loaders.userById.load(row.id);
  return { ...issued, user: user!, passwordChangeRequired: row.forcePasswordChange };
}
