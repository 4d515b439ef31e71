import { badInput, unauthenticated } from '../common/errors';
import type { RequestContext } from '../context';
import { staffSessionRefusal } from '../policy/staff-session';
import { toOperator } from './authenticate';
import { findLoginCandidates, findOperatorRow, recordLoginAttempt } from './operator.repository';
import { verifyPassword } from './password';

const WRONG = 'Invalid identifier or password';
// Verifying against a real hash when the user is unknown keeps the response
// time the same, so timing does not reveal which identifiers exist.
const DUMMY_HASH = '$argon2id$v=19$m=65536,p=4,t=3$ssP0XF2twGAHipPHLO6y/g$R3IXIF2wx9Y6gBBv2X3y1c3znjPknTQv+E2lW/91Q9k';

/**
 * Staff login (R1.4, R4.5). Every attempt is recorded, successful or not
 * (R11.1), in its own statement so a refusal is still logged.
 */
export async function login(ctx: RequestContext, args: { identifier: string; password: string; institution?: string | null }) {
  const db = ctx.db.manager;
  const candidates = await findLoginCandidates(db, args.identifier, args.institution ?? null);
  if (candidates.length > 1) throw badInput('institution', 'This identifier exists in several institutions: give the institution code');
  const candidate = candidates[0];
  const refuse = async (reason: string, message = WRONG) => {
    const attempt = { institutionId: candidate?.institutionId ?? null, userId: candidate?.id ?? null, identifier: args.identifier };
    await recordLoginAttempt(db, { ...attempt, succeeded: false, reason });
    return unauthenticated(message);
  };
  const passwordOk = await verifyPassword(candidate?.passwordHash ?? DUMMY_HASH, args.password);
  if (!candidate) throw await refuse('unknown identifier');
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
