/**
 * A bursar export batch as the API and the command line read it (issue 13 item 3). The count and total are summed
 * over the lines the reader may see (R5.2), so they always agree with the lines listed.
 */
export interface BursarBatch {
  /** The batch's place in the institution's order of exports (paging). */
  seq: string;
  /** The client's batch id, or the one made for it. */
  id: string;
  createdAt: Date;
  createdBy: string;
  currency: string;
  fineCount: number;
  /** A numeric string. */
  total: string;
}

/** One fine handed to the bursar. */
export interface BursarLine {
  batchSeq: string;
  fineId: string;
  /** Read from the user now: null once the user was deleted or purged. */
  userPrimaryIdentifier: string | null;
  feeType: string;
  ownerLibraryId: string | null;
  /** The owning library's code, or INSTITUTION. */
  ownerCode: string;
  /** A numeric string: what was left to pay when the fine was exported. */
  amount: string;
  currency: string;
  fineCreatedAt: Date;
}

export interface BursarBatchPage {
  edges: { cursor: string; node: BursarBatch }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

export type BursarFileFormat = 'jsonl' | 'csv';

/** The columns of both file formats, in order. */
const COLUMNS = ['userPrimaryIdentifier', 'fineId', 'feeType', 'owner', 'amount', 'currency', 'fineCreatedAt'] as const;

function record(line: BursarLine): Record<(typeof COLUMNS)[number], string | null> {
  return {
    userPrimaryIdentifier: line.userPrimaryIdentifier,
    fineId: line.fineId,
    feeType: line.feeType,
    owner: line.ownerCode,
    amount: line.amount,
    currency: line.currency,
    fineCreatedAt: line.fineCreatedAt.toISOString(),
  };
}

/** JSON Lines: one object per fine, each line ending with a newline. */
export function toJsonLines(lines: readonly BursarLine[]): string {
  return lines.map((l) => `${JSON.stringify(record(l))}\n`).join('');
}

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled. */
const csvField = (value: string | null) => (value === null ? '' : /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/** CSV (RFC 4180): a header row, then one row per fine, CRLF line ends. */
export function toCsv(lines: readonly BursarLine[]): string {
  const rows = [COLUMNS.join(','), ...lines.map((l) => { const r = record(l); return COLUMNS.map((c) => csvField(r[c])).join(','); })];
  return rows.map((row) => `${row}\r\n`).join('');
}

export function formatLines(lines: readonly BursarLine[], format: BursarFileFormat): string {
  return format === 'csv' ? toCsv(lines) : toJsonLines(lines);
}
