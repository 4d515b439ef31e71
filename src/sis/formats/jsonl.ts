import { createInterface } from 'node:readline';
import type { SourceRecord } from './source-record';

/**
 * JSON Lines: one `ExternalUserInput` object per line, blank lines skipped.
 * readline's async iterator pauses the input while its queue of lines is full,
 * so a slow consumer holds back the file instead of buffering it.
 */
export async function* readJsonLines(input: NodeJS.ReadableStream): AsyncGenerator<SourceRecord> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  let position = 0;
  for await (const text of lines) {
    line += 1;
    if (text.trim() === '') continue;
    position += 1;
    yield { position, line, ...parseLine(text) };
  }
}

function parseLine(text: string): Pick<SourceRecord, 'record' | 'error'> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `Not valid JSON: ${(e as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return { error: `Expected a JSON object (one user per line), got ${kind}` };
  }
  return { record: value as Record<string, unknown> };
}
