import { connectionOf, pageSize } from '../common/connection';
import type { GraphQLError } from 'graphql';
import type { EntityManager } from 'typeorm';
import { CursorOrder, decodeCursor, encodeCursor } from '../common/cursor';
import { badInput, conflict } from '../common/errors';
import type { RequestContext } from '../context';
import type { FineFee } from '../db/entities';
import { inTransaction } from '../db/transaction';
import { describeFine, recordFineChanges } from '../fines/fine-record';
import { lockFinesForChange } from '../fines/fine-target';
import { findFineTypes } from '../fines/fine.repository';
import { applyFineActions } from '../fines/ledger.repository';
import { fromCents, toCents } from '../fines/money';
import type { ExportFinesToBursarInput } from '../generated/graphql';
import { findLibraries } from '../institutions/institution.repository';
import { configuredCode } from '../owned-items/owned-item-input';
import type { Operator } from '../policy/operator';
import type { BursarBatch, BursarBatchPage, BursarFileFormat } from './bursar-batch';
import { formatLines } from './bursar-batch';
import { ExportFilter, parseExportInput } from './bursar-export.input';
import { claimBatch, findBatch, findBatches, findExportableFineIds, findLines, insertLines } from './bursar-export.repository';

/**
 * exportFinesToBursar (R7.6, R7.9): in one transaction, take the batch id,
 * choose the ACTIVE fines the filter and the operator's export scope select,
 * lock them the one way fines are locked (fines/fine-target.ts), move each to
 * TRANSFERRED with a TRANSFER action in its ledger (amount zero: the remaining
 * amount is now the bursar's to collect, R7.7 holds), a history entry and a
 * FINE_TRANSFERRED event, and store the batch's lines.
 */

const ACTION = 'fine.export';
/** The most fines one batch takes; a filter matching more is refused whole. */
export const MAX_FINES_PER_EXPORT = 10_000;
const MAX_PAGE = 100;
/** Newest first by the batch's seq alone. */
const BATCHES: CursorOrder = { name: 'BURSAR_BATCHES', key: 'none', id: 'bigint' };

/** The filter's library, types and user group must exist; the library must be one the operator may export (R5.3). */
async function checkFilter(ctx: RequestContext, tx: EntityManager, operator: Operator, filter: ExportFilter): Promise<void> {
  if (filter.ownerLibraryId) {
    if ((await findLibraries(tx, operator.institutionId, [filter.ownerLibraryId])).length === 0) {
      throw badInput('input.filter.ownerLibraryId', 'Not a library of your institution');
    }
    ctx.policy.assertOwner(ACTION, filter.ownerLibraryId);
  }
  if (filter.feeTypes) {
    const known = new Set((await findFineTypes(tx, operator.institutionId)).map((t) => t.code));
    const unknown = filter.feeTypes.find((t) => !known.has(t));
    if (unknown) throw badInput('input.filter.feeTypes', `"${unknown}" is not a configured fine/fee type`);
  }
  if (filter.userGroup) await configuredCode(tx, operator.institutionId, 'input.filter.userGroup', 'USER_GROUP', filter.userGroup);
}

/** Over the cap: refused whole, before anything is locked. */
function overCap(): GraphQLError {
  return badInput('input.filter', `More than ${MAX_FINES_PER_EXPORT} fines match the filter: at most ${MAX_FINES_PER_EXPORT} go in one batch; narrow the filter (createdBefore, ownerLibraryId). Nothing was exported`, { limit: MAX_FINES_PER_EXPORT });
}

/** The ledger, balances, history and events of the transferred fines (one batched statement each) and the batch's lines. */
async function transfer(tx: EntityManager, operator: Operator, seq: string, batchId: string, fines: FineFee[]): Promise<void> {
  const comment = `Bursar batch ${batchId}`;
  await applyFineActions(tx, fines.map((f) => ({
    institutionId: operator.institutionId, fineId: f.id, actionType: 'TRANSFER' as const, amount: '0.00', comment, createdBy: operator.label,
  })), fines.map((f) => ({ id: f.id, remainingAmount: f.remainingAmount, status: 'TRANSFERRED' as const })));
  await recordFineChanges(tx, operator, 'FINE_TRANSFERRED', fines.map((f) => ({
    fine: f,
    oldValue: describeFine(f),
    newValue: describeFine({ ...f, status: 'TRANSFERRED' }),
    payload: { batchId, amount: fromCents(toCents(f.remainingAmount)), remainingAmount: f.remainingAmount, status: 'TRANSFERRED', comment },
  })));
  await insertLines(tx, operator.institutionId, seq, fines.map((f) => ({
    fineId: f.id, userId: f.userId, feeType: f.fineType, ownerLibraryId: f.ownerLibraryId, amount: f.remainingAmount, fineCreatedAt: f.createdAt,
  })));
}

/** The bursar reads a batch patron by patron: lines by user, then oldest fine first. */
const byUserThenAge = (a: FineFee, b: FineFee) =>
  a.userId.localeCompare(b.userId) || a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id);

export async function exportFinesToBursar(ctx: RequestContext, input: ExportFinesToBursarInput): Promise<BursarBatch> {
  const operator = ctx.policy.assert(ACTION);
  const request = parseExportInput(input);
  return inTransaction(ctx.db, async (tx) => {
    await checkFilter(ctx, tx, operator, request.filter);
    const claim = await claimBatch(tx, operator.institutionId, request.batchId, request.filter, operator.label);
    if (!claim.claimed) {
      // Idempotent: the batch this id names was exported already (maybe by a call still in flight a moment ago).
      if (!claim.sameFilter) {
        throw conflict(`Batch ${request.batchId} was exported with another filter: a batch id names one export; use a new id`, { field: 'input.batchId', value: request.batchId });
      }
      return (await findBatch(tx, operator.institutionId, ctx.policy.ownerScope(), { seq: claim.seq }))!;
    }
    const reach = ctx.policy.changeCondition(ACTION, { user: 'u', owner: 'f.owner_library_id' }, 9);
    const ids = await findExportableFineIds(tx, operator.institutionId, reach, request.filter, MAX_FINES_PER_EXPORT + 1);
    if (ids.length > MAX_FINES_PER_EXPORT) throw overCap();
    const { fines } = await lockFinesForChange(ctx, tx, ACTION, ids.map((id) => ({ id, field: 'input.filter' })));
    // A fine paid, waived, disputed or taken by another batch since it was chosen stays with what changed it.
    const taken = fines.filter((f) => f.status === 'ACTIVE' && toCents(f.remainingAmount) > 0n).sort(byUserThenAge);
    await transfer(tx, operator, claim.seq, request.batchId, taken);
    return (await findBatch(tx, operator.institutionId, ctx.policy.ownerScope(), { seq: claim.seq }))!;
  });
}

/** One batch by its id, as the operator may see it (R5.2); null when the institution has none. */
export function getBursarBatch(ctx: RequestContext, id: string): Promise<BursarBatch | null> {
  const operator = ctx.policy.assert(ACTION);
  return findBatch(ctx.db.manager, operator.institutionId, ctx.policy.ownerScope(), { batchId: id });
}

/** A page of the institution's batches, newest first. */
export async function listBursarBatches(ctx: RequestContext, args: { first?: number | null; after?: string | null }): Promise<BursarBatchPage> {
  const operator = ctx.policy.assert(ACTION);
  const first = pageSize(args.first, MAX_PAGE);
  const before = args.after ? decodeCursor(args.after, 'after', BATCHES).id : null;
  const rows = await findBatches(ctx.db.manager, operator.institutionId, ctx.policy.ownerScope(), before, first + 1);
  return connectionOf(rows, first, (node) => encodeCursor(BATCHES, { key: null, id: node.seq }));
}

/** A batch's lines as a file (JSON Lines or CSV), as the operator may see them: what `npm run bursar:export` writes. */
export async function bursarFile(ctx: RequestContext, batch: BursarBatch, format: BursarFileFormat): Promise<string> {
  const operator = ctx.policy.assert(ACTION);
  return formatLines(await findLines(ctx.db.manager, operator.institutionId, ctx.policy.ownerScope(), [batch.seq]), format);
}
