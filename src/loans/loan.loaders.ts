import type DataLoader from 'dataloader';
import { groupedLoader } from '../common/loaders';
import { ChildScope, childLoader } from '../db/child-rows';
import type { Loan } from '../db/entities';
import type { LoanStatusFilter } from '../generated/graphql';
import { findLoansOf, openLoanCountOfUser } from './loan.repository';

export function createLoanLoaders(on: ChildScope) {
  const { db, institutionId, scope } = on;
  // One loader per status, so the users of a page asked with the same status share one statement.
  const byStatus = new Map<LoanStatusFilter, DataLoader<string, Loan[]>>();
  return {
    openLoanCountByUser: childLoader(openLoanCountOfUser, on),
    loansByUser(status: LoanStatusFilter): DataLoader<string, Loan[]> {
      let loader = byStatus.get(status);
      if (!loader) byStatus.set(status, (loader = groupedLoader((ids) => findLoansOf(db, institutionId, scope, status, ids), (l) => l.userId)));
      return loader;
    },
  };
}
