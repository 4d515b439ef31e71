import { unauthenticated } from '../common/errors';
import type { RequestContext } from '../context';
import { staffSessionRefusal } from '../policy/staff-session';
import { toOperator } from './authenticate';
import { findLoginCandidates, findOperatorRow, recordLoginAttempt } from './operator.repository';
import { verifyLoginPassword } from './password';

const WRONG = 'Invalid identifier or password';

/**
 * Staff login (R1.4, R4.5). Every attempt is recorded, successful or not
 * (R11.1), in its own statement so a refusal is still logged.
 *
 * Every credential refusal (unknown identifier, identifier in several
 * institutions, account without a password, wrong password) costs one argon2
 * verification and gets the same UNAUTHENTICATED message, so neither the
 * answer nor its timing tells which identifiers exist. Only a correct password
 * learns why a session is refused (inactive, no staff role ...).
 */
export async function login(ctx: RequestContext, args: { identifier: string; password: string; institution?: string | null }) {
  const db = ctx.db.manager;
  const candidates = await findLoginCandidates(db, args.identifier, args.institution ?? null);
  const candidate = candidates.length === 1 ? candidates[0] : undefined;
  // One verification whatever matched: against the dummy hash when there is no
  // single user or it has no password, which then is false for any password.
  const passwordOk = await verifyLoginPassword(candidate?.passwordHash ?? null, args.password);
  const refuse = async (reason: string, message = WRONG) => {
    // An ambiguous identifier is recorded against each user it matched, in its institution.
    const matched = candidates.length ? candidates : [undefined];
    for (const c of matched) {
      await recordLoginAttempt(db, { institutionId: c?.institutionId ?? null, userId: c?.id ?? null, identifier: args.identifier, succeeded: false, reason });
    }
    return unauthenticated(message);
  };
  if (candidates.length > 1) {
    throw await refuse(args.institution == null ? 'identifier in several institutions; no institution code given' : 'identifier matches several users');
  }
  if (!candidate) throw await refuse('unknown identifier');
  if (!candidate.passwordHash) throw await refuse('no password');
  if (!passwordOk) throw await refuse('wrong password');
  const row = await findOperatorRow(db, candidate.id);
  const refusal = row ? staffSessionRefusal(row) : 'unknown user';
  if (!row || refusal) throw await refuse(refusal!, `Login refused: ${refusal}`);
  await recordLoginAttempt(db, { institutionId: row.institutionId, userId: row.id, identifier: args.identifier, succeeded: true, reason: null });
  const operator = toOperator(row);
  ctx.actAs(operator);
  const issued = ctx.tokens.sign({ sub: row.id, pwd: row.passwordChangedAt?.getTime() ?? 0 });
  const user = await ctx.loaders.userById.load(row.id);
  return { ...issued, user: user!, passwordChangeRequired: row.forcePasswordChange };
}
