import { PassThrough } from 'node:stream';
import pino from 'pino';
import { configureLogger, replaceLogger } from '../../src/observability/logger';

/** The process's log, as production writes it (JSON lines), captured while a test runs; `restore` puts the logger back. */
export function captureLog(level: 'debug' | 'info' | 'warn' | 'error' = 'info'): { entries(): Record<string, any>[]; restore(): void } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const previous = replaceLogger(pino({ level: 'silent' }));
  configureLogger({ level, format: 'json' }, stream);
  return {
    entries: () => text.split('\n').filter(Boolean).map((line) => JSON.parse(line)),
    restore: () => void replaceLogger(previous),
  };
}
