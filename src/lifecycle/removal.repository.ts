import type { EntityManager } from 'typeorm';
import { returningRows } from '../db/returning';

/** What stands in the way of removing a user (R10.2), whoever owns it: never filtered by the operator's owner scope. */
export interface RemovalBlockers {
  userId: string;
  /** The sum of the remaining amounts of its ACTIVE and IN_DISPUTE fines that still owe something, as a numeric string. */
  balanceDue: string;
  /** How many fines make up the balance due. */
  finesDue: number;
  openLoans: number;
}

/**
 * The blockers of many users in one statement. The balance follows the
 * fines area's statuses (R7.6: ACTIVE and IN_DISPUTE are owed; CLOSED and
 * TRANSFERRED are not) summed in PostgreSQL, over every owner: whether a
 * user may be removed is a fact about the user, not about what the operator
 * sees (R5.2 hides fines, it does not waive them). Credits do not offset a
 * fine: each fine still owing is a reason.
 */
export function findRemovalBlockers(tx: EntityManager, institutionId: string, userIds: string[]): Promise<RemovalBlockers[]> {
  return tx.query(
    `SELECT u.id AS "userId", f.balance::text AS "balanceDue", f.fines AS "finesDue", l.loans AS "openLoans"
       FROM unnest($2::uuid[]) AS u(id)
       CROSS JOIN LATERAL (SELECT coalesce(sum(remaining_amount), 0) AS balance, count(*)::int AS fines FROM fine_fee
                            WHERE institution_id = $1 AND user_id = u.id AND status IN ('ACTIVE', 'IN_DISPUTE') AND remaining_amount > 0) f
       CROSS JOIN LATERAL (SELECT count(*)::int AS loans FROM loan
                            WHERE institution_id = $1 AND user_id = u.id AND returned_at IS NULL) l`,
    [institutionId, userIds],
  );
}

/**
 * Deletes the user's row; its identifiers, contact information, notes,
 * blocks, statistics, fines, roles, loans and proxy links go with it (the
 * foreign keys cascade). History has no foreign key to the user: it stays.
 */
export async function deleteUserRow(tx: EntityManager, institutionId: string, userId: string): Promise<void> {
  await tx.query(`DELETE FROM app_user WHERE institution_id = $1 AND id = $2`, [institutionId, userId]);
}

/** A proxy link removed with a user. */
export interface RemovedLink {
  id: string;
  proxyUserId: string;
  sponsorUserId: string;
  isFulfillment: boolean;
}

/** Removes every proxy link in which the users are proxy or sponsor, and returns them. */
export function deleteProxyLinksOf(tx: EntityManager, institutionId: string, userIds: string[]): Promise<RemovedLink[]> {
  return returningRows(tx,
    `DELETE FROM proxy_link WHERE institution_id = $1 AND (proxy_user_id = ANY($2::uuid[]) OR sponsor_user_id = ANY($2::uuid[]))
     RETURNING id, proxy_user_id AS "proxyUserId", sponsor_user_id AS "sponsorUserId", is_fulfillment AS "isFulfillment"`,
    [institutionId, userIds]);
}
