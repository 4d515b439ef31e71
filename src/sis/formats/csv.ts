import { pipeline } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import { checkCsvHeader, recordFromRow } from './csv-columns';
import type { SourceRecord } from './source-record';

/**
 * CSV with the documented header of csv-columns.ts (one row per user). The
 * parser is a stream: iterating it pulls rows as the consumer asks for them,
 * and the pipeline pauses the file while the parser's buffer is full. Rows of
 * the wrong length are let through (relax_column_count) so that each one is
 * reported at its own place and the rest of the file still loads.
 */
interface ParsedRow {
  record: Record<string, string>;
  info: { lines: number; error?: CsvError };
  raw: string;
}

export async function* readCsv(input: NodeJS.ReadableStream): AsyncGenerator<SourceRecord> {
  let columns = 0;
  const header = (names: string[]) => {
    columns = names.length;
    return checkCsvHeader(names);
  };
  const rows = pipeline(
    input,
    parse({ columns: header, bom: true, skip_empty_lines: true, relax_column_count: true, info: true, raw: true }),
    // A failure of either stream destroys the parser, which ends the iteration below with that error.
    () => {},
  );
  let position = 0;
  const startLine = recordStartLines();
  for await (const { record, info, raw } of rows as AsyncIterable<ParsedRow>) {
    position += 1;
    const line = startLine(info.lines, raw);
    yield info.error
      ? { position, line, error: `The row has ${(info.error.record as string[]).length} cells where the header has ${columns} columns` }
      : { position, line, record: recordFromRow(record) };
  }
}

/**
 * The line where each record starts. csv-parse counts the line where a record
 * ends, but counts a CRLF inside a quoted cell as two lines; the record's raw
 * text (which holds the blank lines skipped before it, and only the first
 * character of its own CRLF delimiter) shows both how many of those were
 * miscounted so far and how many lines the record spans.
 */
function recordStartLines(): (endLine: number, raw: string) => number {
  let quotedCrlfs = 0;
  return (endLine, raw) => {
    quotedCrlfs += raw.match(/\r\n/g)?.length ?? 0;
    const text = raw.replace(/^[\r\n]+/, '').replace(/(\r\n|\r|\n)$/, '');
    return endLine - quotedCrlfs - (text.match(/\r\n|\r|\n/g)?.length ?? 0);
  };
}
