import { createRequestBudget } from '../../src/server/request-budget';
import { QUERY_LIMITS } from '../../src/server/query-limits';
import { createInstitution, createPerson, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Each client (an operator, or an address without credentials) spends its requests' query cost from a budget
 * (src/server/request-budget.ts): within it a request runs at once, beyond it the request waits for the budget, and
 * beyond the longest wait it is refused with TOO_MANY_REQUESTS. One client's excess never slows another client.
 */
const client = (key: string) => ({ key, anonymous: false });
const settings = (maxWaitMs: number) => ({ operator: { ratePerSecond: 1000, burst: 2000 }, anonymous: { ratePerSecond: 100, burst: 200 }, maxWaitMs });

test('the budget: spending within the burst goes through at once', async () => {
  const budget = createRequestBudget(settings(1000));
  const started = Date.now();
  expect(await budget.spend(client('a'), 1000)).toEqual({ ok: true });
  expect(await budget.spend(client('a'), 1000)).toEqual({ ok: true });
  expect(Date.now() - started).toBeLessThan(100);
});

test('the budget: a cost the burst no longer covers waits until the budget has refilled for it', async () => {
  const budget = createRequestBudget(settings(1000));
  await budget.spend(client('a'), 2000);
  const started = Date.now();
  expect(await budget.spend(client('a'), 200)).toEqual({ ok: true });
  // 200 points at 1,000 a second: 200 ms.
  expect(Date.now() - started).toBeGreaterThanOrEqual(180);
});

test('the budget: a request that would wait longer than the longest wait waits that long and is refused, reserving nothing', async () => {
  const budget = createRequestBudget(settings(100));
  await budget.spend(client('a'), 2000);
  const started = Date.now();
  const refused = await budget.spend(client('a'), 1000);
  expect(refused).toMatchObject({ ok: false });
  expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  // Nothing was reserved: 100 points (100 ms at 1,000 a second) fit after the wait.
  expect(await budget.spend(client('a'), 100)).toEqual({ ok: true });
});

test('the budget: one client spending its budget leaves another client\'s untouched', async () => {
  const budget = createRequestBudget(settings(1000));
  await budget.spend(client('a'), 2000);
  const started = Date.now();
  expect(await budget.spend(client('b'), 2000)).toEqual({ ok: true });
  expect(Date.now() - started).toBeLessThan(100);
});

test('the budget: clients without credentials have the anonymous allowance', async () => {
  const budget = createRequestBudget(settings(10));
  expect(await budget.spend({ key: 'address:203.0.113.7', anonymous: true }, 200)).toEqual({ ok: true });
  expect(await budget.spend({ key: 'address:203.0.113.7', anonymous: true }, 200)).toMatchObject({ ok: false });
});

describe('over HTTP', () => {
  let app: TestApp;
  let greedy: string;
  let other: string;
  let third: string;
  const USERS_PAGE = '{ users(first: 100) { edges { node { id identifiers { type value } roles { roleType } } } } }';

  beforeAll(async () => {
    // Room for one costliest query at once, then 5,000 points a second (slow, so that refusals do not depend on how
    // fast a loaded machine delivers the requests); refused beyond a 300 ms wait.
    app = await startTestApp({
      budget: {
        operator: { ratePerSecond: 5_000, burst: QUERY_LIMITS.maxCost },
        anonymous: { ratePerSecond: 10_000, burst: QUERY_LIMITS.maxCost },
        maxWaitMs: 300,
      },
    });
    const inst = await createInstitution(app.db.dataSource);
    for (const id of ['greedy', 'other', 'third']) await createPerson(app.db.dataSource, inst, { primaryIdentifier: id, roles: [['USER_MANAGER', 'INSTITUTION']] });
    // A login costs 10,000 points of this address's 10,000 a second: one a second.
    const logins: string[] = [];
    for (const id of ['greedy', 'other', 'third']) {
      logins.push(await app.login(id, PASSWORD));
      await new Promise((resolve) => setTimeout(resolve, 1050));
    }
    [greedy, other, third] = logins;
  });
  afterAll(() => app?.close());

  const post = (query: string, token?: string, variables?: unknown) => fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });

  test('an operator sending costly queries faster than its budget is slowed, then refused with TOO_MANY_REQUESTS, 429 and Retry-After', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, () => post(USERS_PAGE, greedy)));
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThan(0);
    const body = (await refused[0].json()) as any;
    expect(body.errors[0].extensions).toMatchObject({ code: 'TOO_MANY_REQUESTS', retryAfterSeconds: expect.any(Number) });
    expect(body.errors[0].message).toMatch(/query budget/);
    expect(Number(refused[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  test('another operator is served while one operator waits for its budget', async () => {
    const done: string[] = [];
    const flood = Promise.all(Array.from({ length: 6 }, () => post(USERS_PAGE, greedy).then(() => done.push('greedy'))));
    const answer = await post('{ me { id } }', other);
    done.push('other');
    await flood;
    expect(answer.status).toBe(200);
    // The greedy operator's last requests waited for its budget (or the longest wait); the other's went first.
    expect(done.indexOf('other')).toBeLessThan(done.length - 1);
  });

  test('a query refused by a limit is charged the cost limit: the next costly query of the same operator waits for it', async () => {
    // Timed from before the refusal: the budget is charged during it, so the wait after it shrinks by however long
    // the answer took to come back on a loaded machine, while the whole span cannot.
    const started = Date.now();
    const tooDeep = await post('{ users { edges { node { roles { scope { library { desks { library { desks { library { id } } } } } } } } } } }', third);
    expect(((await tooDeep.json()) as any).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    await post('{ me { id } }', third);
    // The refusal spent the whole burst: even a small query waits for the budget to refill for it (1,000 points: 200 ms).
    expect(Date.now() - started).toBeGreaterThanOrEqual(195);
  });

  test('login is priced at 10,000 points (@cost): an address without credentials gets two at once, then waits', async () => {
    const login = 'mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }';
    const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => post(login, undefined, { i: `nobody${i}`, p: 'wrong password' })));
    const codes = await Promise.all(answers.map(async (a) => ((await a.json()) as any).errors[0].extensions.code as string));
    expect(codes.filter((c) => c === 'UNAUTHENTICATED').length).toBeGreaterThanOrEqual(1);
    expect(codes).toContain('TOO_MANY_REQUESTS');
  });

  test('attack: forged bearer tokens buy no budget of their own: they spend the address\'s budget for clients without credentials', async () => {
    const forged = (i: number) => `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: `x${i}`, sva: 0 })).toString('base64url')}.forged`;
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => post('{ __typename }', forged(i))));
    const codes = await Promise.all(answers.map(async (a) => ((await a.json()) as any).errors?.[0]?.extensions?.code as string | undefined));
    // 40 admissions of 1,000 points against 20,000 at once and 10,000 a second, refused beyond a 300 ms wait.
    expect(codes).toContain('TOO_MANY_REQUESTS');
    expect(codes.filter((c) => c === 'TOO_MANY_REQUESTS').length).toBe(answers.filter((a) => a.status === 429).length);
  });
});
