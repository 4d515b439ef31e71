import type { EntityManager } from 'typeorm';

/** The delete-user policy (R10.3): what a purge keeps besides the anonymous stub. */
export interface PurgePolicy {
  keepStatistics: boolean;
  keepUserGroup: boolean;
  keepCampus: boolean;
  keepDates: boolean;
}

export type PurgePolicyField = keyof PurgePolicy;

/** Where the institution row holds each setting. */
const COLUMNS: Record<PurgePolicyField, string> = {
  keepStatistics: 'purge_keeps_statistics',
  keepUserGroup: 'purge_keeps_user_group',
  keepCampus: 'purge_keeps_campus',
  keepDates: 'purge_keeps_dates',
};

export const POLICY_FIELDS = Object.keys(COLUMNS) as PurgePolicyField[];

const SELECT_LIST = POLICY_FIELDS.map((f) => `${COLUMNS[f]} AS "${f}"`).join(', ');

/** The institution's policy; `lock` holds its row until the transaction ends, so concurrent changes queue. */
export async function findPurgePolicy(db: EntityManager, institutionId: string, opts: { lock?: boolean } = {}): Promise<PurgePolicy> {
  const [row] = await db.query(`SELECT ${SELECT_LIST} FROM institution WHERE id = $1${opts.lock ? ' FOR UPDATE' : ''}`, [institutionId]);
  if (!row) throw new Error(`institution ${institutionId} not found`);
  return row;
}

export async function updatePurgePolicy(tx: EntityManager, institutionId: string, policy: PurgePolicy): Promise<void> {
  await tx.query(`UPDATE institution SET ${POLICY_FIELDS.map((f, i) => `${COLUMNS[f]} = $${i + 2}`).join(', ')} WHERE id = $1`,
    [institutionId, ...POLICY_FIELDS.map((f) => policy[f])]);
}
