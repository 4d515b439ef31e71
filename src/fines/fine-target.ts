import { GraphQLError } from 'graphql';
import type { EntityManager } from 'typeorm';
import { isKnownError } from '../common/errors';
import type { RequestContext } from '../context';
import type { FineFee } from '../db/entities';
import type { Operator } from '../policy/operator';
import type { Action } from '../policy/permissions';
import { findUsersByIds } from '../users/user.repository';
import { findFinesInScope } from './fine.repository';
import { lockFines } from './ledger.repository';

/** A fine a request names, and the input path that named it (`id`, `input.fineIds[3]`). */
export interface FineTarget {
  id: string;
  field: string;
}

/** Re-raises a refusal about one fine with the fine's id in the message and in `fineId`, and its input path as the field. */
export function aboutFine(target: FineTarget, e: unknown, field = target.field): unknown {
  if (!isKnownError(e)) return e;
  // "Fine … is CLOSED: …" for our own refusals, "Fine …: Your roles do not …" for the policy's.
  const message = `Fine ${target.id}${/^[a-z]/.test(e.message) ? ' ' : ': '}${e.message}`;
  return new GraphQLError(message, { extensions: { ...e.extensions, field, fineId: target.id } });
}

/**
 * The first step of every action on existing fines, the counterpart of
 * lockUserForChange: find the fines in the institution and the operator's
 * owner scope (R5.2: anything else is NOT_FOUND, naming it), lock them in id
 * order (concurrent payments and waives of the same fine queue, and
 * overlapping sets never deadlock), then let the policy decide for each
 * fine's user and owner (R5.3). Only fine rows are locked, never users, so
 * this cannot deadlock with a change that holds a user's lock.
 * Returns the locked fines in the order asked.
 */
export async function lockFinesForChange(
  ctx: RequestContext,
  tx: EntityManager,
  action: Action,
  targets: FineTarget[],
): Promise<{ operator: Operator; fines: FineFee[] }> {
  const operator = ctx.policy.assert(action);
  // A waive by filter may match nothing: nothing to find, lock or judge.
  if (targets.length === 0) return { operator, fines: [] };
  const ids = targets.map((t) => t.id);
  const visible = new Set((await findFinesInScope(tx, operator.institutionId, ctx.policy.ownerScope(), ids)).map((f) => f.id));
  const missing = (t: FineTarget) => new GraphQLError(`No fine ${t.id} in your institution and owner scope`, { extensions: { code: 'NOT_FOUND', field: t.field, fineId: t.id } });
  for (const t of targets) if (!visible.has(t.id)) throw missing(t);
  const locked = new Map((await lockFines(tx, operator.institutionId, ids)).map((f) => [f.id, f]));
  const users = new Map((await findUsersByIds(tx, operator.institutionId, [...new Set([...locked.values()].map((f) => f.userId))])).map((u) => [u.id, u]));
  const fines = targets.map((t) => {
    const fine = locked.get(t.id);
    const user = fine && users.get(fine.userId);
    // Fines are never deleted on their own; only removing their user (cascade) can take one away meanwhile.
    if (!fine || !user) throw missing(t);
    try {
      ctx.policy.assertCanChange(action, user);
      ctx.policy.assertOwner(action, fine.ownerLibraryId, user);
    } catch (e) {
      throw aboutFine(t, e);
    }
    return fine;
  });
  return { operator, fines };
}
