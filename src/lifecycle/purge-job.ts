import { GraphQLError } from 'graphql';
import { badInput, conflict } from '../common/errors';
import type { RequestContext } from '../context';
import type { RoleAssignment } from '../db/entities';
import type { RemovalBlocker } from '../generated/graphql';
import { JOB_LEASE_MS, withLease } from '../db/job-lease';
import { inTransaction } from '../db/transaction';
import type { Operator } from '../policy/operator';
import { findRolesOf } from '../roles/role.repository';
import { findPurgePolicy } from './delete-user-policy.repository';
import { countDueUsers, DuePosition, DueUser, dueBeforeDay, findDueUsers } from './purge.repository';
import { purgeUsers } from './purge-users';
import { RemovalRefusal, refusalsOf } from './removal-refusals';
import { findRemovalBlockers, RemovalBlockers } from './removal.repository';

/**
 * The purge job (R10.4): every user of the operator's institution whose
 * purge date plus the grace period has passed, in batches of their own
 * transaction, each user judged as purgeUser judges one, and purged through
 * the same code path (purge-users.ts).
 */

export const PURGE_BATCH_SIZE = 500;
export const MAX_GRACE_DAYS = 3650;
/** The report lists this many skipped users; `skipped` counts them all. */
export const MAX_LISTED_SKIPS = 1000;

/** A due user the job left alone, and every reason. */
export interface PurgeSkip {
  userId: string;
  primaryIdentifier: string | null;
  reasons: RemovalRefusal[];
}

export interface PurgeJobReport {
  dryRun: boolean;
  graceDays: number;
  dueBefore: string;
  purged: number;
  skipped: number;
  /** How many skipped users had each reason (a user may have several), over all of them. */
  skippedByReason: Partial<Record<RemovalBlocker, number>>;
  skippedUsers: PurgeSkip[];
}

/** What one batch works on: the due day the run fixed at its start, and where its walk stands. */
export interface PurgeBatchRequest {
  dueBefore: string;
  dryRun: boolean;
  after: DuePosition | null;
  limit?: number;
}

export interface PurgeBatchResult {
  purged: number;
  skips: PurgeSkip[];
  /** Where the next batch starts; null when this one reached the end. */
  next: DuePosition | null;
}

const isForbidden = (e: unknown): e is GraphQLError => e instanceof GraphQLError && e.extensions.code === 'FORBIDDEN';

/**
 * Every reason a due user cannot be purged by this operator: a protected
 * account (R4.5), the policy's refusal (a restricted user, the subset rule:
 * roles the operator could not grant, or the operator itself), and R10.2.
 */
function reasonsFor(ctx: RequestContext, user: DueUser, held: RoleAssignment[], blockers: RemovalBlockers | undefined): RemovalRefusal[] {
  const reasons: RemovalRefusal[] = [];
  if (user.protected) {
    reasons.push({ code: 'PROTECTED_ACCOUNT', message: `${user.primaryIdentifier} is a protected account (R4.5): never purged` });
  } else {
    try {
      ctx.policy.assertMayChangeAccess('user.purge', user, held);
    } catch (e) {
      if (!isForbidden(e)) throw e;
      reasons.push({ code: 'NOT_PERMITTED', message: e.message });
    }
  }
  return [...reasons, ...refusalsOf(blockers)];
}

/**
 * One batch in its own transaction: the next due users after `after`
 * (locked, SKIP LOCKED, unless a dry run), their blockers and roles in one
 * statement each, then the purge of those nothing stands in the way of.
 * A dry run selects and judges the same way and writes nothing.
 */
export function runPurgeBatch(ctx: RequestContext, req: PurgeBatchRequest): Promise<PurgeBatchResult> {
  const operator: Operator = ctx.policy.assert('user.purgeJob');
  const { institutionId } = operator;
  const limit = req.limit ?? PURGE_BATCH_SIZE;
  return inTransaction(ctx.db, async (tx) => {
    const users = await findDueUsers(tx, { institutionId, dueBefore: req.dueBefore, after: req.after, limit, lock: !req.dryRun });
    if (users.length === 0) return { purged: 0, skips: [], next: null };
    const ids = users.map((u) => u.id);
    const blockers = new Map((await findRemovalBlockers(tx, institutionId, ids)).map((b) => [b.userId, b]));
    const held = new Map<string, RoleAssignment[]>();
    for (const role of await findRolesOf(tx, institutionId, ids)) held.set(role.userId!, [...(held.get(role.userId!) ?? []), role]);
    const skips: PurgeSkip[] = [];
    const purgeable = users.filter((user) => {
      const reasons = reasonsFor(ctx, user, held.get(user.id) ?? [], blockers.get(user.id));
      if (reasons.length > 0) skips.push({ userId: user.id, primaryIdentifier: user.primaryIdentifier, reasons });
      return reasons.length === 0;
    });
    if (!req.dryRun) await purgeUsers(tx, operator, await findPurgePolicy(tx, institutionId), purgeable);
    const last = users[users.length - 1];
    return { purged: purgeable.length, skips, next: users.length < limit ? null : { purgeDate: last.purgeDate, id: last.id } };
  });
}

export interface PurgeJobOptions {
  dryRun: boolean;
  /** Days after the purge date before a user is due (0 to MAX_GRACE_DAYS, default 0). */
  graceDays?: number | null;
  batchSize?: number;
  /** Called after each batch with the users dealt with so far (purged and skipped) and the number due at the start. */
  onProgress?: (done: number, total: number) => void;
  /** Stops between batches; committed batches stay purged. */
  signal?: AbortSignal;
}

/** The lease a real run holds (src/db/job-lease.ts): one run per institution at a time, whichever instance or CLI starts it. */
export const purgeLeaseName = (institutionId: string) => `purge:${institutionId}`;

/**
 * runPurgeJob (R10.4). Due: purge_date + graceDays < today, fixed when the
 * run starts. The walk is a keyset over (purge date, id), so skipped users
 * are read once per run, and each batch commits on its own: no giant
 * transaction or lock set, and a run interrupted halfway leaves whole
 * batches behind, the rest due for the next run.
 *
 * A real run holds the institution's purge lease: a second one started meanwhile (another instance, the CLI, the
 * mutation again) is refused with CONFLICT rather than walking the same users behind the first. A dry run writes and
 * locks nothing, so it takes no lease: it may preview while a real run proceeds.
 */
export async function runPurgeJob(ctx: RequestContext, opts: PurgeJobOptions): Promise<PurgeJobReport> {
  const operator = ctx.policy.assert('user.purgeJob');
  const graceDays = opts.graceDays ?? 0;
  if (!Number.isInteger(graceDays) || graceDays < 0 || graceDays > MAX_GRACE_DAYS) {
    throw badInput('graceDays', `graceDays must be a whole number of days from 0 to ${MAX_GRACE_DAYS}`, { limit: MAX_GRACE_DAYS });
  }
  if (opts.dryRun) return walkDueUsers(ctx, operator, graceDays, opts, opts.signal);
  const leased = await withLease(ctx.db, purgeLeaseName(operator.institutionId), JOB_LEASE_MS,
    (lost) => walkDueUsers(ctx, operator, graceDays, opts, opts.signal ? AbortSignal.any([opts.signal, lost]) : lost));
  if (leased.ran) return leased.result;
  const since = leased.holder ? ` (since ${leased.holder.takenAt.toISOString()})` : '';
  throw conflict(`the purge job of this institution is already running${since}: one run at a time; start it again once that run has ended `
    + `(a run whose server stopped frees the job within ${JOB_LEASE_MS / 1000} s)`);
}

async function walkDueUsers(ctx: RequestContext, operator: Operator, graceDays: number, opts: PurgeJobOptions, signal: AbortSignal | undefined): Promise<PurgeJobReport> {
  const dueBefore = await dueBeforeDay(ctx.db.manager, graceDays);
  const total = await countDueUsers(ctx.db.manager, operator.institutionId, dueBefore);
  const report: PurgeJobReport = { dryRun: opts.dryRun, graceDays, dueBefore, purged: 0, skipped: 0, skippedByReason: {}, skippedUsers: [] };
  let after: DuePosition | null = null;
  do {
    signal?.throwIfAborted();
    const batch = await runPurgeBatch(ctx, { dueBefore, dryRun: opts.dryRun, after, limit: opts.batchSize });
    report.purged += batch.purged;
    report.skipped += batch.skips.length;
    for (const reason of batch.skips.flatMap((skip) => skip.reasons)) report.skippedByReason[reason.code] = (report.skippedByReason[reason.code] ?? 0) + 1;
    report.skippedUsers.push(...batch.skips.slice(0, MAX_LISTED_SKIPS - report.skippedUsers.length));
    after = batch.next;
    opts.onProgress?.(report.purged + report.skipped, total);
  } while (after);
  return report;
}
