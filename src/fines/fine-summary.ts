/** A user's balances over the fines an operator may see (R7.6), and whether the whole active balance reaches the debt limit (R7.5); amounts are numeric strings. */
export interface FineSummaryRow {
  userId: string;
  activeBalance: string;
  disputedBalance: string;
  transferredBalance: string;
  openCount: number;
  exceedsDebtLimit: boolean;
}
