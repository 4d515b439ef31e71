import { AuditResult, serverAudits } from 'graphql-http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The GraphQL over HTTP spec audit of graphql-http, run against the real
 * server. MUST audits failing show as `error`; SHOULD/MAY ones as `warn` or
 * `notice`.
 */
let app: TestApp;
let results: AuditResult[];

/**
 * Notices Carrel accepts: Apollo's CSRF prevention refuses a GET that carries
 * neither a preflight header (`apollo-require-preflight`,
 * `x-apollo-operation-name`) nor a non-simple content type, and the audit's
 * GETs carry none.
 */
const KNOWN_NOTICES: Record<string, string> = {
  '5A70': 'MAY accept application/x-www-form-urlencoded formatted GET requests',
  '6A70': 'MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/json',
  D6D5: 'MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/graphql-response+json',
};

const withStatus = (status: AuditResult['status']) => results.filter((r) => r.status === status);

beforeAll(async () => {
  app = await startTestApp();
  results = [];
  for (const audit of serverAudits({ url: app.url })) results.push(await audit.fn());
  const line = (r: AuditResult) => `  ${r.id} ${r.name}${r.status === 'ok' ? '' : ` -- ${r.reason}`}`;
  console.log(
    [
      `graphql-http server audit: ${results.length} audits, ok ${withStatus('ok').length}, warn ${withStatus('warn').length}, ` +
        `notice ${withStatus('notice').length}, error ${withStatus('error').length}`,
      'warnings:', ...withStatus('warn').map(line),
      'notices:', ...withStatus('notice').map(line),
      'errors:', ...withStatus('error').map(line),
    ].join('\n'),
  );
});
afterAll(() => app.close());

test('the server fails none of the GraphQL over HTTP audits (0 with status error)', () => {
  expect(results.length).toBeGreaterThan(0);
  expect(withStatus('error').map((r) => `${r.id} ${r.name}: ${r.status === 'ok' ? '' : r.reason}`)).toEqual([]);
});

test('the audit reports 0 warnings: parse, validation and variable-coercion failures are HTTP 200 under application/json', () => {
  // They were 400 under both media types (572B, FDE2, 7B9B); src/server/response-status.ts follows the spec.
  expect(withStatus('warn').map((r) => `${r.id} ${r.name}: ${r.status === 'ok' ? '' : r.reason}`)).toEqual([]);
  expect(withStatus('warn')).toHaveLength(0);
});

const PARSE_FAILURE = JSON.stringify({ query: '{' });

test('a parse failure under application/json is HTTP 200 with the error and no data', async () => {
  const res = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: PARSE_FAILURE });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as any;
  expect(body.data).toBeUndefined();
  expect(body.errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
});

test('without an Accept header the answer is application/json, so a parse failure is HTTP 200 too', async () => {
  const res = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: PARSE_FAILURE });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
});

test('a parse failure under application/graphql-response+json is HTTP 400', async () => {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: PARSE_FAILURE,
  });
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
  expect(((await res.json()) as any).errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
});

test('a POST without a query stays HTTP 400 under application/json: it is not a GraphQL request', async () => {
  const res = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: '{"variables":{}}' });
  expect(res.status).toBe(400);
  expect(((await res.json()) as any).errors[0].extensions.code).toBe('BAD_REQUEST');
});

test('the only notices are the GETs refused by CSRF prevention', () => {
  const unexpected = withStatus('notice').filter((r) => !(r.id in KNOWN_NOTICES));
  expect(unexpected.map((r) => `${r.id} ${r.name}`)).toEqual([]);
  for (const r of withStatus('notice')) expect(r.name).toBe(KNOWN_NOTICES[r.id]);
});

test('a GET without a preflight header is refused by CSRF prevention with 400', async () => {
  const res = await fetch(`${app.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json' } });
  expect(res.status).toBe(400);
  expect(await res.text()).toMatch(/CSRF/i);
});

test('a GET with the apollo-require-preflight header and URL-encoded variables is answered', async () => {
  const query = encodeURIComponent('query($show: Boolean!) { __typename @include(if: $show) }');
  const variables = encodeURIComponent(JSON.stringify({ show: true }));
  const res = await fetch(`${app.url}?query=${query}&variables=${variables}`, {
    headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
});
