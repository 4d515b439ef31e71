import crypto from 'node:crypto';
import type { PoolClient } from 'pg';
import { EntityManager, QueryFailedError } from 'typeorm';

/**
 * Hot reads run as named (prepared) statements: PostgreSQL parses and plans a
 * statement once per connection instead of on every request (the point
 * lookup's statements cost 0.64 ms prepared against 1.6 ms unnamed).
 *
 * They run on TypeORM's query runner (the transaction's when `db` is a
 * transaction's manager), logged and counted by the data source's logger and
 * failing with TypeORM's QueryFailedError, like every other statement; only
 * the call to pg differs, with a `{ name, text, values }` config.
 *
 * The name is a digest of the text, so one text is one statement on every
 * connection. Texts are built by code from fixed fragments (values are always
 * parameters), so the set of texts, and of statements a connection keeps, is
 * bounded by the code's combinations of filters and selections.
 */
/**
 * A statement stays prepared on its connection until the connection closes, and the texts a client can cause are
 * many (the columns read depend on the fields it selects): past MAX_NAMED_STATEMENTS distinct texts, new ones run
 * unnamed, so neither this map nor PostgreSQL's memory per connection grows without bound. The hot texts are met
 * first and stay prepared.
 */
export const MAX_NAMED_STATEMENTS = 2000;

export function statementNames(max: number): (text: string) => string | null {
  const names = new Map<string, string>();
  return (text) => {
    let name = names.get(text);
    if (name === undefined) {
      if (names.size >= max) return null;
      name = `carrel_${crypto.createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
      names.set(text, name);
    }
    return name;
  };
}

const nameOf = statementNames(MAX_NAMED_STATEMENTS);

/**
 * Runs `text` as a named statement with `values`; rows come back as plain objects. `planEachTime`: send it unnamed,
 * so PostgreSQL plans it for these values every time. For a statement whose best plan depends on a value: after five
 * executions a prepared statement may switch to a generic plan made without the values, and for a name search
 * (`search_text LIKE $n`) that plan counted 27,000 matches of "an" in 67 ms of PostgreSQL time where the plan for the
 * value took 21 ms, and timed out at a million users.
 */
export async function queryPrepared<T>(db: EntityManager, text: string, values: readonly unknown[], planEachTime = false): Promise<T[]> {
  const runner = db.queryRunner ?? db.connection.createQueryRunner();
  const parameters = values as unknown[];
  try {
    const client = (await runner.connect()) as PoolClient;
    db.connection.logger.logQuery(text, parameters, runner);
    try {
      const name = planEachTime ? null : nameOf(text);
      return (await client.query(name ? { name, text, values: parameters } : { text, values: parameters })).rows as T[];
    } catch (error) {
      db.connection.logger.logQueryError(error as Error, text, parameters, runner);
      throw new QueryFailedError(text, parameters, error as Error);
    }
  } finally {
    if (!db.queryRunner) await runner.release();
  }
}

/**
 * Placeholders for a statement built piece by piece: `add` gives the next `$n`
 * for a value, `once` gives the same `$n` to every use of one named value
 * (the institution id a page and its children's subqueries all filter on).
 */
export interface SqlParams {
  values: unknown[];
  add(value: unknown): string;
  once(key: string, value: unknown): string;
}

export function sqlParams(): SqlParams {
  const values: unknown[] = [];
  const named = new Map<string, string>();
  const add = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  return {
    values,
    add,
    once(key, value) {
      let placeholder = named.get(key);
      if (placeholder === undefined) named.set(key, (placeholder = add(value)));
      return placeholder;
    },
  };
}
