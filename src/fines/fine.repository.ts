import type { EntityManager } from 'typeorm';
import { CodeValue, FineFee, FineFeeAction, FineFeeType } from '../db/entities';
import { ownerCondition, ownerParam, OwnerScope } from '../policy/scope';
import type { FineSummaryRow } from './fine-summary';
import { ChildSet, institutionParam } from '../db/child-rows';

/**
 * Balances of many users in one statement, summed in PostgreSQL so money
 * never passes through a float. The amounts and the open count are over the
 * fines the owner scope lets the operator see (R5.2). Whether the patron
 * reaches the debt limit is a fact about the patron, the same for every
 * operator: it is decided on the whole ACTIVE balance, whoever owns the fines
 * (disputed and transferred amounts are left out, R7.5, R7.6; a limit of 0
 * means no limit). So a user with fines only outside the scope gets a row
 * too: zero amounts, and possibly over the limit.
 */
export const fineSummaryOfUser: ChildSet<FineSummaryRow> = {
  // With `fields` (read ahead), only the sums the query selects; a field not listed here reads them all.
  json: (parent, p, on, fields) => {
    const institution = institutionParam(p, on);
    const balance = (status: string) => `coalesce(sum(f.remaining_amount) FILTER (WHERE f.visible AND f.status = '${status}'), 0)::text`;
    const all: Record<string, string> = {
      activeBalance: balance('ACTIVE'),
      disputedBalance: balance('IN_DISPUTE'),
      transferredBalance: balance('TRANSFERRED'),
      openCount: `count(*) FILTER (WHERE f.visible AND f.status IN ('ACTIVE', 'IN_DISPUTE'))`,
      exceedsDebtLimit: `(SELECT i.debt_limit > 0 AND coalesce(sum(f.remaining_amount) FILTER (WHERE f.status = 'ACTIVE'), 0) >= i.debt_limit
                           FROM institution i WHERE i.id = ${institution})`,
    };
    const wanted = fields ? [...fields].filter((f) => f !== '__typename') : [];
    const names = wanted.length > 0 && wanted.every((f) => Object.hasOwn(all, f)) ? Object.keys(all).filter((f) => wanted.includes(f)) : Object.keys(all);
    return `(SELECT json_build_object(${names.map((name) => `'${name}', ${all[name]}`).join(', ')})
       FROM (SELECT f.status, f.remaining_amount, ${ownerCondition('f.owner_library_id', p.once('owners', ownerParam(on.scope)))} AS visible
               FROM fine_fee f WHERE f.institution_id = ${institution} AND f.user_id = ${parent}) f)`;
  },
  read: (value, userId) => ({ userId, ...(value as Omit<FineSummaryRow, 'userId'>) }),
};

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

/**
 * The fines among `ids` that the operator may see (R5.2), in no particular
 * order: a fine outside the owner scope is not retrieved at all, so acting
 * on it is indistinguishable from acting on a missing one.
 */
export function findFinesInScope(db: EntityManager, institutionId: string, scope: OwnerScope, ids: string[]): Promise<FineFee[]> {
  return db.getRepository(FineFee).createQueryBuilder('f')
    .where('f.institution_id = :institutionId AND f.id = ANY(:ids::uuid[])', { institutionId, ids })
    .andWhere(ownerCondition('f.owner_library_id', ':owners'), { owners: ownerParam(scope) })
    .getMany();
}

/**
 * The ledger of many fines in one statement, oldest first; a CREATE sorts
 * before what the same transaction added after it. Only actions of fines the
 * owner scope lets the operator see (R5.2), whoever asks the loader: an id of
 * a hidden fine yields nothing.
 */
export function findActionsOf(db: EntityManager, institutionId: string, scope: OwnerScope, fineIds: string[]): Promise<FineFeeAction[]> {
  return db.getRepository(FineFeeAction).createQueryBuilder('a')
    .innerJoin(FineFee, 'f', 'f.id = a.fine_id AND f.institution_id = a.institution_id')
    .where('a.institution_id = :institutionId AND a.fine_id = ANY(:fineIds::uuid[])', { institutionId, fineIds })
    .andWhere(ownerCondition('f.owner_library_id', ':owners'), { owners: ownerParam(scope) })
    .orderBy('a.created_at', 'ASC')
    .addOrderBy(`CASE WHEN a.action_type = 'CREATE' THEN 0 ELSE 1 END`, 'ASC')
    .addOrderBy('a.id', 'ASC')
    .getMany();
}

export function insertFine(tx: EntityManager, values: Omit<FineFee, 'id' | 'createdAt' | 'statusDate'>): Promise<FineFee> {
  const repo = tx.getRepository(FineFee);
  return repo.save(repo.create(values));
}

/** The institution's fine/fee types (R7.2), by code. */
export function findFineTypes(db: EntityManager, institutionId: string): Promise<FineFeeType[]> {
  return db.getRepository(FineFeeType).createQueryBuilder('t').where('t.institution_id = :institutionId', { institutionId }).orderBy('t.code').getMany();
}

export function findFineType(db: EntityManager, institutionId: string, code: string): Promise<FineFeeType | null> {
  return db.getRepository(FineFeeType).findOneBy({ institutionId, code });
}

/** The institution's configured waive reasons (R7.4), by code. */
export function findWaiveReasons(db: EntityManager, institutionId: string): Promise<CodeValue[]> {
  return db.getRepository(CodeValue).createQueryBuilder('c')
    .where(`c.institution_id = :institutionId AND c.kind = 'WAIVE_REASON'`, { institutionId })
    .orderBy('c.code')
    .getMany();
}
