import { extname } from 'node:path';
import { readAlmaXml } from './alma-xml';
import { readCsv } from './csv';
import { readJsonLines } from './jsonl';
import { SIS_FORMATS, type SisFormat, type SourceRecord } from './source-record';

export type { SisFormat, SourceRecord } from './source-record';

/**
 * The records of a SIS file, one at a time as the file is read, whatever its
 * format. Each reader is an async generator over the input stream, so reading
 * stops while the consumer is busy: memory stays flat in the file's size.
 */
export function readRecords(input: NodeJS.ReadableStream, format: SisFormat): AsyncIterable<SourceRecord> {
  switch (format) {
    case 'jsonl':
      return readJsonLines(input);
    case 'csv':
      return readCsv(input);
    case 'xml':
      return readAlmaXml(input);
  }
}

const EXTENSIONS: Record<string, SisFormat> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.csv': 'csv', '.xml': 'xml' };

/** The format given with --format, or else the one the file's extension names. */
export function formatOf(path: string, explicit?: string): SisFormat {
  if (explicit !== undefined) {
    const format = explicit.trim().toLowerCase();
    if ((SIS_FORMATS as string[]).includes(format)) return format as SisFormat;
    throw new Error(`Unknown format "${explicit}": the formats are ${SIS_FORMATS.join(', ')}`);
  }
  const format = EXTENSIONS[extname(path).toLowerCase()];
  if (format === undefined) {
    throw new Error(`Cannot tell the format of ${path} from its extension: name it .jsonl/.ndjson, .csv or .xml, or give --format ${SIS_FORMATS.join('|')}`);
  }
  return format;
}
