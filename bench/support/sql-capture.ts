import type { Client } from 'pg';
import { sqlLogger, sqlStatementCount } from '../../src/db/sql-logger';

/**
 * The SQL statements an in-process server sends for one request, exactly as sent (text and parameters), seen through
 * the app's SQL logger (src/db/sql-logger.ts), and their EXPLAIN (ANALYZE, BUFFERS) afterwards.
 */
export interface Captured {
  query: string;
  parameters: unknown[];
}

export interface SqlCapture {
  /** Runs `work`, recording every statement the app sends meanwhile: only one request should be in flight. */
  during<T>(work: () => Promise<T>): Promise<{ result: T; statements: number; sql: Captured[] }>;
}

/** Wraps the app's SQL logger (it still counts) to see the statements of one request. */
export function captureSql(): SqlCapture {
  const original = sqlLogger.logQuery.bind(sqlLogger);
  let sink: Captured[] | null = null;
  sqlLogger.logQuery = (query, parameters, queryRunner) => {
    sink?.push({ query, parameters: parameters ?? [] });
    original(query, parameters, queryRunner);
  };
  return {
    async during(work) {
      sink = [];
      const before = sqlStatementCount();
      try {
        const result = await work();
        return { result, statements: sqlStatementCount() - before, sql: sink };
      } finally {
        sink = null;
      }
    },
  };
}

/** Whether a statement may write or lock (a data-modifying WITH included): EXPLAIN ANALYZE would run it. */
export const isWrite = (sql: string) => !/^\s*(SELECT|WITH)\b/i.test(sql) || /\b(INSERT|UPDATE|DELETE|MERGE)\b|\bFOR\s+(UPDATE|SHARE|NO KEY UPDATE|KEY SHARE)\b/i.test(sql);

export interface TextPlan {
  query: string;
  executionMs: number;
  /** EXPLAIN's text output, one line per entry. */
  lines: string[];
}

/** EXPLAIN (ANALYZE, BUFFERS) of each read statement, in text form; writes are left out (ANALYZE would run them). */
export async function explainText(client: Client, sql: Captured[]): Promise<TextPlan[]> {
  const out: TextPlan[] = [];
  for (const s of sql.filter((x) => !isWrite(x.query))) {
    const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${s.query}`, s.parameters as unknown[]);
    const lines = rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']);
    const execution = lines.map((l: string) => /^Execution Time: ([0-9.]+) ms/.exec(l)).find(Boolean);
    out.push({ query: s.query, executionMs: execution ? Number(execution[1]) : NaN, lines });
  }
  return out;
}
