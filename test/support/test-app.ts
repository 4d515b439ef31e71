import type { SessionLimits } from '../../ormconfig';
import { createTokenIssuer } from '../../src/auth/tokens';
import { createServer, CarrelServer } from '../../src/server';
import type { BudgetSettings } from '../../src/server/request-budget';
import type { CompileSettings } from '../../src/server/compiled-execution';
import type { WebhookSettings } from '../../src/webhooks/webhook-settings';
import { createTestDatabase, TestDatabase } from './test-db';

export interface GraphQLResponse<T = any> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, any> }[];
}

/** The real server (express + Apollo) on a free port, over a real database of its own. */
export interface TestApp {
  url: string;
  db: TestDatabase;
  server: CarrelServer;
  /** POSTs a GraphQL request over HTTP, with a bearer token when given. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse<T>>;
  /** Logs in over the API and returns the token; fails the test if login fails. */
  login(identifier: string, password: string): Promise<string>;
  close(): Promise<void>;
}

/** POSTs a GraphQL request to `url` over HTTP, with a bearer token when given. */
export async function postGraphQL<T = any>(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GraphQLResponse<T>;
}

/**
 * `database`: the session limits of the app's pool (none by default), e.g. a tiny statement timeout. `budget`: each
 * client's query budget (none by default: the suite sends requests far faster than any client should). `compile`:
 * when queries are compiled (the server's default: on their second execution). `jobs: false`: no periodic jobs (for
 * the tests of those jobs, which a server's own run would race).
 */
export async function startTestApp(
  opts: { production?: boolean; database?: SessionLimits; budget?: BudgetSettings; compile?: CompileSettings; jobs?: boolean; webhooks?: Partial<WebhookSettings> } = {},
): Promise<TestApp> {
  const db = await createTestDatabase(opts.database);
  const server = await createServer({
    db: db.dataSource,
    tokens: createTokenIssuer('test-secret', 3600),
    production: opts.production ?? false,
    budget: opts.budget ?? null,
    compile: opts.compile,
    jobs: opts.jobs,
    webhooks: opts.webhooks,
  });
  const port = await server.listen(0);
  const url = `http://127.0.0.1:${port}/graphql`;
  const gql = (query: string, variables?: Record<string, unknown>, token?: string) => postGraphQL(url, query, variables, token);
  return {
    url,
    db,
    server,
    gql,
    async login(identifier, password) {
      const res = await gql(`mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }`, { i: identifier, p: password });
      if (!res.data?.login?.token) throw new Error(`login of ${identifier} failed: ${JSON.stringify(res.errors)}`);
      return res.data.login.token;
    },
    async close() {
      await server.stop();
      await db.drop();
    },
  };
}
