import type { Resolvers } from '../generated/graphql';
import { childrenOf } from '../users/user-children';
import { recordLoan, returnLoan } from './loan.service';

export const loanResolvers: Resolvers = {
  Mutation: {
    recordLoan: (_parent, { input }, ctx) => recordLoan(ctx, input),
    returnLoan: (_parent, { id, returnedAt }, ctx) => returnLoan(ctx, id, returnedAt),
  },
  User: {
    loans: (user, { status }, ctx) => ctx.loaders.loansByUser(status ?? 'OPEN').load(user.id),
    // Embedded in a users page's own statement when read ahead (users/user-children.ts), else batched per request.
    openLoanCount: (user, _args, ctx) => childrenOf(user, 'openLoanCountByUser', ctx.loaders),
  },
  Loan: {
    owner: (l) => ({ libraryId: l.libraryId }),
    overdue: (l) => l.returnedAt === null && l.dueDate.getTime() < Date.now(),
    // The loan was reached through its user or a scoped lookup, so its user is in the operator's institution.
    user: async (l, _args, ctx) => (await ctx.loaders.userById.load(l.userId))!,
  },
};
