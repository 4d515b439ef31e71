import { badInput } from '../common/errors';
import { connectionOf, pageSize } from '../common/connection';
import { CursorOrder, decodeCursor, encodeCursor } from '../common/cursor';
import type { RequestContext } from '../context';
import type { FineFee, FineFeeAction } from '../db/entities';
import type {
  FineActionSort, FineActionsFilter, FineDimension, FineSort, FineStatus, FinesFilter, PaymentMethod, ResolversTypes,
} from '../generated/graphql';
import { checkActionsFilter } from './fine-actions-filter';
import { ACTION_SORTS, ActionTotals, findActionPage, findFinePage, FINE_SORTS, sumActions } from './cross-user-pages.repository';
import { ACTION_DIMENSIONS, FineTotalsRead, groupFineTotals } from './fine-totals.repository';
import { checkGroupBy, withinGroupRows } from './group-by';
import { checkFinesFilter } from './fines-filter';

/**
 * Analysts' reads of fines across users (issue 14): lists, the ledger and grouped totals. Each asks the policy for the
 * analytics permission and the owners the operator may see (R5.2); the repositories put both in the SQL.
 */

const MAX_PAGE = 100;

/** The count and sums of a whole filtered set, read once however many of its fields the query selects. */
const once = <T>(read: () => Promise<T>) => {
  let result: Promise<T> | null = null;
  return () => (result ??= read());
};

export type FinePage = ReturnType<typeof connectionOf<FineFee>> & {
  totalCount(): Promise<number>;
  totals(): Promise<{ original: string; remaining: string; paid: string; waived: string }>;
};

export async function listFines(
  ctx: RequestContext,
  args: { first?: number | null; after?: string | null; filter?: FinesFilter | null; sort?: FineSort | null },
): Promise<FinePage> {
  const operator = ctx.policy.assert('report.analytics');
  const first = pageSize(args.first, MAX_PAGE);
  const filter = args.filter ?? {};
  checkFinesFilter(filter);
  const sort = { field: args.sort?.field ?? 'CREATED_AT', direction: args.sort?.direction ?? 'DESC' } as const;
  const order: CursorOrder = { name: `fines:${sort.field}:${sort.direction}`, key: FINE_SORTS[sort.field].key, id: 'uuid' };
  const after = args.after ? decodeCursor(args.after, 'after', order) : null;
  const scope = ctx.policy.ownerScope();
  const rows = await findFinePage(ctx.db.manager, { institutionId: operator.institutionId, scope, filter, sort, first, after });
  const totals = once(async () => (await groupFineTotals(ctx.db.manager, { institutionId: operator.institutionId, scope, filter, groupBy: [] }))[0]);
  return {
    ...connectionOf(rows, first, (f) => encodeCursor(order, { key: f.sortKey, id: f.id })),
    totalCount: async () => (await totals()).count,
    totals: async () => {
      const { original, remaining, paid, waived } = await totals();
      return { original: original!, remaining: remaining!, paid: paid!, waived: waived! };
    },
  };
}

export type FineActionPage = ReturnType<typeof connectionOf<FineFeeAction>> & {
  totalCount(): Promise<number>;
  totals(): Promise<ActionTotals>;
};

export async function listFineActions(
  ctx: RequestContext,
  args: { first?: number | null; after?: string | null; filter?: FineActionsFilter | null; sort?: FineActionSort | null },
): Promise<FineActionPage> {
  const operator = ctx.policy.assert('report.analytics');
  const first = pageSize(args.first, MAX_PAGE);
  const filter = args.filter ?? {};
  checkActionsFilter(filter, 'filter');
  const sort = { field: args.sort?.field ?? 'CREATED_AT', direction: args.sort?.direction ?? 'DESC' } as const;
  const order: CursorOrder = { name: `fineActions:${sort.field}:${sort.direction}`, key: ACTION_SORTS[sort.field].key, id: 'uuid' };
  const after = args.after ? decodeCursor(args.after, 'after', order) : null;
  const scope = ctx.policy.ownerScope();
  const rows = await findActionPage(ctx.db.manager, { institutionId: operator.institutionId, scope, filter, sort, first, after });
  const totals = once(() => sumActions(ctx.db.manager, operator.institutionId, scope, filter));
  return {
    ...connectionOf(rows, first, (a) => encodeCursor(order, { key: a.sortKey, id: a.id })),
    totalCount: async () => (await totals()).count,
    totals,
  };
}

export async function totalFines(
  ctx: RequestContext,
  args: { filter?: FinesFilter | null; groupBy: FineDimension[]; actionFilter?: FineActionsFilter | null },
): Promise<ResolversTypes['FineTotalsRow'][]> {
  const operator = ctx.policy.assert('report.analytics');
  const filter = args.filter ?? {};
  checkFinesFilter(filter);
  checkFineGroupBy(args.groupBy);
  const byAction = args.groupBy.some((d) => d in ACTION_DIMENSIONS);
  if (args.actionFilter != null) {
    if (!byAction) throw badInput('actionFilter', 'actionFilter applies only when grouping by WAIVE_REASON or PAYMENT_METHOD');
    checkActionsFilter(args.actionFilter, 'actionFilter');
  }
  const rows = await groupFineTotals(ctx.db.manager, {
    institutionId: operator.institutionId, scope: ctx.policy.ownerScope(), filter, groupBy: args.groupBy, actionFilter: args.actionFilter,
  });
  return withinGroupRows(rows).map(toRow);
}

/** The bounds of every grouping, and the action dimensions neither together nor with STATUS (see FineDimension). */
function checkFineGroupBy(groupBy: FineDimension[]): void {
  checkGroupBy(groupBy);
  const actions = groupBy.filter((d) => d in ACTION_DIMENSIONS);
  if (actions.length > 1) throw badInput('groupBy', 'WAIVE_REASON and PAYMENT_METHOD group different actions: one at a time');
  if (actions.length > 0 && groupBy.includes('STATUS')) {
    throw badInput('groupBy', `${actions[0]} groups ledger actions, which have no status: group by STATUS without it`);
  }
}

function toRow({ dimensions: d, count, original, remaining, paid, waived }: FineTotalsRead): ResolversTypes['FineTotalsRow'] {
  return {
    owner: 'OWNER' in d ? { libraryId: d.OWNER ?? null } : null,
    feeType: d.FEE_TYPE ?? null,
    status: (d.STATUS as FineStatus | undefined) ?? null,
    monthCreated: d.MONTH_CREATED ?? null,
    userGroup: d.USER_GROUP ?? null,
    waiveReason: d.WAIVE_REASON ?? null,
    paymentMethod: (d.PAYMENT_METHOD as PaymentMethod | undefined) ?? null,
    count, original, remaining, paid, waived,
  };
}
