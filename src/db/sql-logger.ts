import { AbstractLogger, LogLevel, LogMessage, QueryRunner } from 'typeorm';

/**
 * Counts every SQL statement the app sends, so tests and benchmarks can prove
 * that a page of 50 users costs the same statements as a page of 5.
 * Statement text is logged only when CARREL_LOG_SQL is set.
 */
let statements = 0;

export function sqlStatementCount(): number {
  return statements;
}

class CountingLogger extends AbstractLogger {
  logQuery(query: string, parameters?: unknown[], _queryRunner?: QueryRunner): void {
    statements += 1;
    if (process.env.CARREL_LOG_SQL) super.logQuery(query, parameters);
  }

  protected writeLog(level: LogLevel, message: LogMessage | LogMessage[]): void {
    const list = Array.isArray(message) ? message : [message];
    for (const m of list) {
      if (level === 'query' && !process.env.CARREL_LOG_SQL) continue;
      // eslint-disable-next-line no-console
      console.error(`[sql ${level}]`, typeof m.message === 'string' ? m.message : JSON.stringify(m.message));
    }
  }
}

// AbstractLogger.logQuery writes only when its options enable 'query': without them CARREL_LOG_SQL printed nothing.
export const sqlLogger = new CountingLogger(['query']);
