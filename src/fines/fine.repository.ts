import type { EntityManager } from 'typeorm';
import { FineFee } from '../db/entities';
import { ownerCondition, ownerParam, OwnerScope } from '../policy/scope';
import type { FineSummaryRow } from './fine-summary';

/**
 * Balances of many users in one statement, summed in PostgreSQL so money
 * never passes through a float. Disputed amounts are left out of the debt
 * limit (R7.5); a limit of 0 means no limit.
 */
export function findFineSummariesOf(
  db: EntityManager,
  institutionId: string,
  scope: OwnerScope,
  userIds: string[],
): Promise<FineSummaryRow[]> {
  return db.query(
    `SELECT f.user_id AS "userId",
            coalesce(sum(f.remaining_amount) FILTER (WHERE f.status = 'ACTIVE'), 0)::text AS "activeBalance",
            coalesce(sum(f.remaining_amount) FILTER (WHERE f.status = 'IN_DISPUTE'), 0)::text AS "disputedBalance",
            coalesce(sum(f.remaining_amount) FILTER (WHERE f.status = 'TRANSFERRED'), 0)::text AS "transferredBalance",
            (count(*) FILTER (WHERE f.status IN ('ACTIVE', 'IN_DISPUTE')))::int AS "openCount",
            (i.debt_limit > 0 AND coalesce(sum(f.remaining_amount) FILTER (WHERE f.status = 'ACTIVE'), 0) >= i.debt_limit) AS "exceedsDebtLimit"
       FROM fine_fee f JOIN institution i ON i.id = f.institution_id
      WHERE f.institution_id = $1 AND f.user_id = ANY($2::uuid[]) AND ${ownerCondition('f.owner_library_id', '$3')}
      GROUP BY f.user_id, i.debt_limit`,
    [institutionId, userIds, ownerParam(scope)],
  );
}

/** Fines of many users with one of `statuses`, that the owner scope lets the operator see (R5.2, R7.9), newest first. */
export function findFinesOf(db: EntityManager, institutionId: string, scope: OwnerScope, statuses: string[], userIds: string[]): Promise<FineFee[]> {
  return db.getRepository(FineFee).createQueryBuilder('f')
    .where('f.institution_id = :institutionId AND f.user_id = ANY(:userIds::uuid[])', { institutionId, userIds })
    .andWhere('f.status = ANY(:statuses::text[])', { statuses })
    .andWhere(ownerCondition('f.owner_library_id', ':owners'), { owners: ownerParam(scope) })
    .orderBy('f.created_at', 'DESC')
    .addOrderBy('f.id', 'ASC')
    .getMany();
}
