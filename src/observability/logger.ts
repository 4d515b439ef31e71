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
 * code, not data, and stays. The code and statement are looked for through the wrappers (GraphQL's originalError,
 * TypeORM's driverError, cause): formatError logs the GraphQLError around the driver's error.
 *
 * PostgreSQL's data exceptions (SQLSTATE class 22: a value that does not fit its type or column) quote the value in
 * their message (`invalid input syntax for type uuid: "..."`), and that value came from a client or a row: their
 * message is withheld, from the stack's first line too; the code says which exception it was.
 */
export function errorFields(e: unknown): Record<string, unknown> {
  if (!(e instanceof Error)) return { message: String(e) };
  const chain = causesOf(e);
  const code = chain.map((x) => x.code).find((c): c is string => typeof c === 'string');
  const query = chain.map((x) => x.query).find((q): q is string => typeof q === 'string');
  const withheld = code !== undefined && /^22[0-9A-Z]{3}$/.test(code);
  const message = withheld ? `data exception ${code} (its message quotes the value: not logged)` : e.message;
  return {
    type: e.name,
    message,
    ...(code !== undefined ? { code } : {}),
    ...(query !== undefined ? { query } : {}),
    stack: withheld ? `${e.name}: ${message}${framesOf(e.stack)}` : e.stack,
  };
}

/** The error and what it wraps, outermost first. */
function causesOf(e: unknown, depth = 0): Record<string, unknown>[] {
  if (typeof e !== 'object' || e === null || depth > 4) return [];
  const x = e as Record<string, unknown>;
  return [x, ...[x.originalError, x.driverError, x.cause].flatMap((inner) => causesOf(inner, depth + 1))];
}

/** A stack's "    at ..." lines, without the message before them. */
function framesOf(stack: string | undefined): string {
  const at = stack?.indexOf('\n    at ') ?? -1;
  return at < 0 ? '' : stack!.slice(at);
}
