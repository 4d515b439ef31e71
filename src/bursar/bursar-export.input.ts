import { randomUUID } from 'node:crypto';
import { badInput } from '../common/errors';
import { isUuid } from '../common/uuid';
import { fromCents, positiveAmount } from '../fines/money';
import type { ExportFinesToBursarInput } from '../generated/graphql';
import { requiredText } from '../owned-items/owned-item-input';

/**
 * An export request checked for shape before the transaction opens. Whether
 * the library, types and user group exist needs the database and is decided
 * in the service. The filter is kept in one normal form: it is stored with the
 * batch, and a re-run with the same batch id must ask for the same fines.
 */
export interface ExportFilter {
  ownerLibraryId: string | null;
  /** Sorted, each once. */
  feeTypes: string[] | null;
  /** ISO 8601. */
  createdBefore: string | null;
  createdAfter: string | null;
  userGroup: string | null;
  /** Two decimals. */
  minAmount: string | null;
}

export interface ExportRequest {
  batchId: string;
  filter: ExportFilter;
}

/** A batch id goes into file names and the bursar's systems: a plain token. */
const BATCH_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export function parseBatchId(field: string, value: string): string {
  if (!BATCH_ID.test(value)) throw badInput(field, 'A batch id has 1 to 64 letters, digits, ".", "_", ":" or "-", and starts with a letter or digit');
  return value;
}

export function parseExportInput(input: ExportFinesToBursarInput): ExportRequest {
  const batchId = input.batchId == null ? randomUUID() : parseBatchId('input.batchId', input.batchId);
  const f = input.filter ?? {};
  if (f.ownerLibraryId != null && !isUuid(f.ownerLibraryId)) throw badInput('input.filter.ownerLibraryId', 'Not a library id');
  let feeTypes: string[] | null = null;
  if (f.feeTypes != null) {
    if (f.feeTypes.length === 0) throw badInput('input.filter.feeTypes', 'List at least one fine/fee type, or leave the filter out');
    feeTypes = [...new Set(f.feeTypes.map((t, i) => requiredText(`input.filter.feeTypes[${i}]`, t, 50)))].sort();
  }
  if (f.createdBefore && f.createdAfter && f.createdAfter.getTime() >= f.createdBefore.getTime()) {
    throw badInput('input.filter.createdAfter', 'createdAfter must be before createdBefore');
  }
  return {
    batchId,
    filter: {
      ownerLibraryId: f.ownerLibraryId?.toLowerCase() ?? null,
      feeTypes,
      createdBefore: f.createdBefore?.toISOString() ?? null,
      createdAfter: f.createdAfter?.toISOString() ?? null,
      userGroup: f.userGroup == null ? null : requiredText('input.filter.userGroup', f.userGroup, 50),
      minAmount: f.minAmount == null ? null : fromCents(positiveAmount('input.filter.minAmount', f.minAmount)),
    },
  };
}
