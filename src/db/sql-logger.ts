import { AbstractLogger, LogLevel, LogMessage, QueryRunner } from 'typeorm';
import { logger } from '../observability/logger';
import { currentRequest } from '../observability/request-record';

/**
 * Counts every SQL statement the app sends, in total (tests and benchmarks prove that a page of 50 users costs the
 * same statements as a page of 5) and per HTTP request (its log line). With CARREL_LOG_SQL each statement's text is
 * logged at debug; its parameters never are (they are users' data, and hashes).
 */
let statements = 0;
let logText = false;

export function sqlStatementCount(): number {
  return statements;
}

/** CARREL_LOG_SQL, set once at start (src/main.ts). */
export function logSqlText(enabled: boolean): void {
  logText = enabled;
}

class CountingLogger extends AbstractLogger {
  logQuery(query: string, _parameters?: unknown[], _queryRunner?: QueryRunner): void {
    statements += 1;
    const request = currentRequest();
    if (request) request.statements += 1;
    if (logText) logger().debug({ reqId: request?.id, sql: query }, 'sql');
  }

  protected writeLog(level: LogLevel, message: LogMessage | LogMessage[]): void {
    if (level === 'query') return;
    for (const m of Array.isArray(message) ? message : [message]) {
      const text = typeof m.message === 'string' ? m.message : JSON.stringify(m.message);
      if (level === 'warn' || level === 'error') logger().warn({ component: 'typeorm' }, text);
      else logger().debug({ component: 'typeorm' }, text);
    }
  }
}

// AbstractLogger only calls logQuery when its options enable 'query'.
export const sqlLogger = new CountingLogger(['query']);
