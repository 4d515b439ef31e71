import pino, { Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from '../config';

export type { Logger };

/**
 * The process's one logger (pino). `npm start` configures it from CARREL_LOG_LEVEL and CARREL_LOG_FORMAT: JSON lines
 * on stdout in production (a collector parses them), readable lines in development. Until then, and in tests that
 * start servers in-process, it writes warnings and errors only, as JSON to stderr.
 *
 * What it never writes: passwords, PINs, tokens, API key secrets or hashes. Nothing logs a request's body, variables
 * or headers; errors are reduced to their type, message, code and stack (a driver error's parameters and detail
 * carry the row's values); `redact` is the net under that for a field named like a secret.
 */
/** Field names whose values are never written, wherever they appear in a logged object. */
const SECRET_FIELDS = ['password', 'newPassword', 'currentPassword', 'pin', 'token', 'secret', 'apiKey', 'authorization', 'hash', 'passwordHash', 'cookie'];

let current: Logger = pino({ name: 'carrel', level: 'warn', ...common() }, pino.destination({ dest: 2, sync: true }));

export function logger(): Logger {
  return current;
}

/** Replaces the process's logger; `destination` is for tests that read what it writes. */
export function configureLogger(settings: Pick<Config['logging'], 'level' | 'format'>, destination: NodeJS.WritableStream = process.stdout): Logger {
  const stream = settings.format === 'pretty'
    ? pretty({ destination, sync: true, colorize: false, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,component', singleLine: true })
    : destination;
  current = pino({ name: 'carrel', level: settings.level, ...common() }, stream);
  return current;
}

/** Puts `next` in place of the process's logger and returns the one it replaced (tests that read the log put it back). */
export function replaceLogger(next: Logger): Logger {
  const previous = current;
  current = next;
  return previous;
}

/** A `(line) => void` for the modules that report progress as text (jobs, the event hub, migrations). */
export function lineLog(component: string): (line: string) => void {
  return (line) => current.info({ component }, line);
}

function common(): pino.LoggerOptions {
  return {
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`)], censor: '[redacted]' },
    serializers: { err: errorFields },
  };
}

/**
 * What an error contributes to a log line. A TypeORM QueryFailedError carries the statement's parameters (a user's
 * password hash, an address) and pg's `detail` the offending row's values: neither is kept. The statement's text is
 * code, not data, and stays.
 */
export function errorFields(e: unknown): Record<string, unknown> {
  if (!(e instanceof Error)) return { message: String(e) };
  const err = e as Error & { code?: unknown; query?: unknown; driverError?: { code?: unknown } };
  const code = err.code ?? err.driverError?.code;
  return {
    type: err.name,
    message: err.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof err.query === 'string' ? { query: err.query } : {}),
    stack: err.stack,
  };
}
