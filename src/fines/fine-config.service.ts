import { notFound } from '../common/errors';
import type { RequestContext } from '../context';
import type { PaymentMethod } from '../db/entities';
import { findInstitution } from '../institutions/institution.repository';
import { findFineTypes, findWaiveReasons } from './fine.repository';

/**
 * The institution's fine configuration. Like libraries, it is reference data
 * (codes, names, rates, limits) with nothing about any person, so every
 * signed-in operator of the institution may read it.
 */

export const PAYMENT_METHODS: readonly PaymentMethod[] = ['CASH', 'CREDIT_CARD', 'ONLINE'];

export function listFineFeeTypes(ctx: RequestContext) {
  return findFineTypes(ctx.db.manager, ctx.policy.authenticated().institutionId);
}

export function listWaiveReasons(ctx: RequestContext) {
  return findWaiveReasons(ctx.db.manager, ctx.policy.authenticated().institutionId);
}

export function listPaymentMethods(ctx: RequestContext): PaymentMethod[] {
  ctx.policy.authenticated();
  return [...PAYMENT_METHODS];
}

/** The debt limit and waive cap live on the institution row. */
export async function getFineSettings(ctx: RequestContext) {
  const institution = await findInstitution(ctx.db.manager, ctx.policy.authenticated().institutionId);
  if (!institution) throw notFound('Your institution no longer exists');
  return institution;
}
