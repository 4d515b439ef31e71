import type { RequestContext } from '../context';
import { findAllLibraries } from './institution.repository';

/** Libraries are reference data every operator of the institution may read (they name scopes and owners). */
export function listLibraries(ctx: RequestContext) {
  const operator = ctx.policy.authenticated();
  return findAllLibraries(ctx.db.manager, operator.institutionId);
}
