/**
 * What every SIS file reader yields: one record of the file, either readable
 * (`record`, shaped like the GraphQL `ExternalUserInput` with raw values) or
 * not (`error`, and no `record`). Readers only report what makes a record
 * unreadable; the loader coerces each record against the GraphQL type and the
 * domain rules check the rest, so a file is judged the same as an API call.
 */

export type SisFormat = 'jsonl' | 'csv' | 'xml';

export const SIS_FORMATS: readonly SisFormat[] = ['jsonl', 'csv', 'xml'];

export interface SourceRecord {
  /** 1-based number of the record in the file (a CSV's header and blank lines are not records). */
  position: number;
  /** The file line where the record starts, when known. */
  line: number | null;
  record?: Record<string, unknown>;
  error?: string;
}

/** A plain object without the keys whose value is undefined: an absent value is left out, not sent as null. */
export function compact(fields: Record<string, unknown>): Record<string, unknown> {
  const present: Record<string, unknown> = {};
  for (const key in fields) if (fields[key] !== undefined) present[key] = fields[key];
  return present;
}
