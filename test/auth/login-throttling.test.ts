import argon2 from 'argon2';
import { recordLoginAttempt } from '../../src/auth/operator.repository';
import { createInstitution, createPerson, InstitutionFixture, loginOperators, PASSWORD } from '../support/fixtures';
import { SMALL_LOGIN_LIMITS } from '../support/small-login-limits';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 9 findings 7 and 11: sign-in throttling and lockout, through the API.
 * Small limits for this file: 3 free failures, a 1 s wait after each further
 * one, a lockout at the 6th, 4 free failures per address. The proxy in front
 * (loopback) is trusted, so each test speaks from a client address of its
 * own with X-Forwarded-For and never meets another test's address count.
 */
Object.assign(process.env, SMALL_LOGIN_LIMITS);

let app: TestApp;
let inst: InstitutionFixture;
let tokens: Record<string, string>;
let nextAddress = 0;
const db = () => app.db.dataSource;
/** A client address no other test uses. */
const freshAddress = () => `198.51.100.${++nextAddress}`;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  tokens = await loginOperators(app, inst, {
    ua_admin: ['USER_ADMINISTRATOR', 'INSTITUTION'],
    um_only: ['USER_MANAGER', 'INSTITUTION'],
    gsa_reports: ['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION'],
  });
});
afterAll(() => app.close());
afterEach(() => jest.restoreAllMocks());

const LOGIN = `mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }`;
const CHANGE = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token } }`;
const UNLOCK = `mutation($u: ID!) { unlockUser(userId: $u) { id primaryIdentifier } }`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { data?: any; errors?: { message: string; extensions?: Record<string, any> }[] };
}

/** A GraphQL request from `address` (through the trusted proxy). */
async function from(address: string, query: string, variables: Record<string, unknown>, token?: string): Promise<Answer> {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Answer['body'] };
}
const login = (address: string, identifier: string, password: string) => from(address, LOGIN, { i: identifier, p: password });

type Outcome = 'ok' | 'wrong' | 'wait' | 'locked';
function outcomeOf(a: Answer): Outcome {
  if (a.body.data?.login?.token) return 'ok';
  const [error] = a.body.errors ?? [];
  if (error?.extensions?.code === 'UNAUTHENTICATED') return 'wrong';
  if (error?.extensions?.code !== 'TOO_MANY_REQUESTS') throw new Error(`unexpected answer ${JSON.stringify(a.body)}`);
  return /locked/.test(error.message) ? 'locked' : 'wait';
}

/** `count` wrong passwords for `identifier`, waiting out each throttled answer; the outcome of each attempt. */
async function guess(address: string, identifier: string, count: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let i = 0; i < count; i++) {
    const answer = await login(address, identifier, `guess number ${i}`);
    const outcome = outcomeOf(answer);
    outcomes.push(outcome);
    if (outcome === 'wait') await sleep(Number(answer.retryAfter) * 1000 + 100);
  }
  return outcomes;
}

const reasons = async (identifier: string): Promise<string[]> =>
  (await db().query(`SELECT reason FROM login_attempt WHERE identifier = $1 ORDER BY id`, [identifier])).map((r: { reason: string }) => r.reason);

const staff = (identifier: string, role: [string, string] = ['USER_MANAGER', 'INSTITUTION']) =>
  createPerson(db(), inst, { primaryIdentifier: identifier, roles: [role] });

test('Issue 9 finding 7: 20 wrong passwords for one identifier are throttled with growing waits, then lock the account', async () => {
  await staff('guessed');
  const address = freshAddress();
  const outcomes = await guess(address, 'guessed', 20);
  // 3 free failures; the 4th and 5th each impose a wait (answered as such); the 6th locks.
  expect(outcomes).toEqual(['wrong', 'wrong', 'wrong', 'wrong', 'wait', 'wrong', 'wait', 'wrong', ...Array(12).fill('locked')]);
  expect(await reasons('guessed')).toEqual([
    'wrong password', 'wrong password', 'wrong password', 'wrong password', 'throttled: identifier', 'wrong password', 'throttled: identifier',
    'wrong password; locked after 6 consecutive failures', ...Array(12).fill('locked'),
  ]);
});

test('Issue 9 finding 7: a throttled or locked answer is HTTP 429 with TOO_MANY_REQUESTS, retryAfterSeconds and Retry-After', async () => {
  await staff('answered');
  const address = freshAddress();
  await guess(address, 'answered', 4);
  const waiting = await login(address, 'answered', 'yet another guess');
  expect(waiting.status).toBe(429);
  expect(waiting.body.data ?? null).toBeNull();
  expect(waiting.body.errors?.[0]).toMatchObject({
    message: 'Too many failed attempts with this identifier: wait 1 second before trying again',
    extensions: { code: 'TOO_MANY_REQUESTS', retryAfterSeconds: 1 },
  });
  expect(waiting.body.errors?.[0].extensions).not.toHaveProperty('http');
  expect(waiting.retryAfter).toBe('1');
});

test('Issue 9 finding 7: while locked, the right password is refused too, without a password check', async () => {
  await staff('locked_right');
  const address = freshAddress();
  expect((await guess(address, 'locked_right', 9)).at(-1)).toBe('locked');
  const verify = jest.spyOn(argon2, 'verify');
  const answer = await login(freshAddress(), 'locked_right', PASSWORD);
  expect(answer.status).toBe(429);
  expect(answer.body.errors?.[0].message).toMatch(/^Sign-in with this identifier is locked after too many failed attempts: try again in \d+ seconds?, or ask an administrator/);
  expect(answer.body.errors?.[0].extensions?.retryAfterSeconds).toBeGreaterThan(590);
  expect(verify).not.toHaveBeenCalled();
});

test('Issue 9 finding 7: an unknown identifier is throttled and locked exactly like a real one, so the answers tell nothing', async () => {
  await staff('real_one');
  const real = await guess(freshAddress(), 'real_one', 10);
  const unknown = await guess(freshAddress(), 'nobody_at_all', 10);
  expect(unknown).toEqual(real);
  const [a, b] = await Promise.all([login(freshAddress(), 'real_one', PASSWORD), login(freshAddress(), 'nobody_at_all', PASSWORD)]);
  const withoutTime = (x: Answer) => x.body.errors?.[0].message.replace(/\d+ seconds?/, 'N seconds');
  expect(withoutTime(a)).toBe(withoutTime(b));
  expect(withoutTime(a)).toMatch(/locked/);
});

test('Issue 9 finding 7: the lockout is per account, whichever identifier the guesses use', async () => {
  await createPerson(db(), inst, { primaryIdentifier: 'two_names', roles: [['USER_MANAGER', 'INSTITUTION']], identifiers: [['BARCODE', 'TWO-NAMES-B']] });
  const address = freshAddress();
  await guess(address, 'two_names', 3);
  // Case-insensitive primary identifier and the barcode count against the same account.
  expect(await guess(address, 'TWO_NAMES', 1)).toEqual(['wrong']);
  expect(outcomeOf(await login(address, 'TWO-NAMES-B', 'guess'))).toBe('wait');
});

test('Issue 9 finding 7: a successful login forgets the failures before it', async () => {
  await staff('forgetful');
  expect(await guess(freshAddress(), 'forgetful', 3)).toEqual(['wrong', 'wrong', 'wrong']);
  expect(outcomeOf(await login(freshAddress(), 'forgetful', PASSWORD))).toBe('ok');
  // Without the success, this 4th failure would impose a wait and the 6th would lock.
  expect(await guess(freshAddress(), 'forgetful', 4)).toEqual(['wrong', 'wrong', 'wrong', 'wrong']);
});

test('Issue 9 finding 7: failures from one address are throttled across different identifiers, other addresses are not', async () => {
  await staff('addr_victim');
  const address = freshAddress();
  // 4 free failures per address, each with another identifier: no identifier reaches its own limit.
  for (let i = 0; i < 5; i++) expect(await guess(address, `sprayed_${i}`, 1)).toEqual(['wrong']);
  const next = await login(address, 'sprayed_new', 'guess');
  expect(next.status).toBe(429);
  expect(next.body.errors?.[0].message).toBe('Too many failed sign-in attempts from your address: wait 1 second before trying again');
  // The address waits even for the right password; another address is not affected.
  expect(outcomeOf(await login(address, 'addr_victim', PASSWORD))).toBe('wait');
  expect(outcomeOf(await login(freshAddress(), 'addr_victim', PASSWORD))).toBe('ok');
  expect(await reasons('sprayed_new')).toEqual(['throttled: address']);
});

describe('unlockUser', () => {
  test('Issue 9 finding 7: an administrator unlocks a locked account and the right password works again', async () => {
    const id = await staff('unlock_me');
    expect((await guess(freshAddress(), 'unlock_me', 9)).at(-1)).toBe('locked');
    const res = await app.gql(UNLOCK, { u: id }, tokens.ua_admin);
    expect(res.errors).toBeUndefined();
    expect(res.data.unlockUser).toEqual({ id, primaryIdentifier: 'unlock_me' });
    expect(outcomeOf(await login(freshAddress(), 'unlock_me', PASSWORD))).toBe('ok');
    const [event] = await db().query(`SELECT event_type, actor FROM event_outbox WHERE aggregate_id = $1 ORDER BY id DESC LIMIT 1`, [id]);
    expect(event).toEqual({ event_type: 'USER_UNLOCKED', actor: 'ua_admin' });
  });

  test('Issue 9 finding 7: an operator cannot unlock a user more powerful than itself, and the lock stays', async () => {
    const id = await staff('powerful_locked', ['USER_ADMINISTRATOR', 'INSTITUTION']);
    expect((await guess(freshAddress(), 'powerful_locked', 9)).at(-1)).toBe('locked');
    const res = await app.gql(UNLOCK, { u: id }, tokens.um_only);
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(outcomeOf(await login(freshAddress(), 'powerful_locked', PASSWORD))).toBe('locked');
  });

  test('Issue 9 finding 7: unlockUser without user.setCredentials is FORBIDDEN', async () => {
    const id = await staff('not_unlocked');
    const res = await app.gql(UNLOCK, { u: id }, tokens.gsa_reports);
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  test('Issue 9 finding 7: an unlocked identifier that matched no single user is unlocked with its user (ambiguous identifiers)', async () => {
    const id = await createPerson(db(), inst, { primaryIdentifier: 'barcode_owner', roles: [['USER_MANAGER', 'INSTITUTION']], identifiers: [['BARCODE', 'B-SHARED-9']] });
    // The barcode is also someone's primary identifier in another institution: without an institution code it is ambiguous.
    const other = await createInstitution(db(), 'ELSE');
    await createPerson(db(), other, { primaryIdentifier: 'B-SHARED-9', roles: [['USER_MANAGER', 'INSTITUTION']] });
    expect((await guess(freshAddress(), 'B-SHARED-9', 9)).at(-1)).toBe('locked');
    expect((await app.gql(UNLOCK, { u: id }, tokens.ua_admin)).errors).toBeUndefined();
    expect(await guess(freshAddress(), 'B-SHARED-9', 1)).toEqual(['wrong']);
  });
});

test('Issue 9 finding 7: lockouts and throttled attempts appear in the staff login report', async () => {
  await staff('reported');
  await guess(freshAddress(), 'reported', 9);
  const res = await app.gql(`query($from: DateTime!, $to: DateTime!) {
    staffLoginReport(from: $from, to: $to, first: 1000) { failedCount attempts { identifier succeeded reason user { primaryIdentifier } } }
  }`, { from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 3600_000).toISOString() }, tokens.gsa_reports);
  expect(res.errors).toBeUndefined();
  const mine = res.data.staffLoginReport.attempts.filter((a: any) => a.identifier === 'reported').reverse();
  expect(mine.map((a: any) => a.reason)).toEqual([
    'wrong password', 'wrong password', 'wrong password', 'wrong password', 'throttled: identifier', 'wrong password', 'throttled: identifier',
    'wrong password; locked after 6 consecutive failures', 'locked',
  ]);
  expect(mine.every((a: any) => !a.succeeded && a.user?.primaryIdentifier === 'reported')).toBe(true);
});

test('Issue 9 finding 7: login_attempt never stores more than 255 characters of an identifier', async () => {
  const long = `${'x'.repeat(300)}\u{1F600}`;
  await recordLoginAttempt(db().manager, { institutionId: null, userId: null, identifier: long, succeeded: false, reason: 'test' });
  const [row] = await db().query(`SELECT identifier FROM login_attempt WHERE reason = 'test'`);
  expect(row.identifier).toBe('x'.repeat(255));
});

describe('changePassword', () => {
  test('Issue 9 finding 11: wrong current passwords are limited: after the free ones, TOO_MANY_REQUESTS without a password check', async () => {
    await staff('pw_guesser');
    const token = await app.login('pw_guesser', PASSWORD);
    const address = freshAddress();
    const codes: string[] = [];
    for (let i = 0; i < 4; i++) codes.push((await from(address, CHANGE, { c: `not it ${i}`, n: 'a new fine secret' }, token)).body.errors![0].extensions!.code);
    expect(codes).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
    const verify = jest.spyOn(argon2, 'verify');
    const limited = await from(address, CHANGE, { c: PASSWORD, n: 'a new fine secret' }, token);
    expect(limited.status).toBe(429);
    expect(limited.body.errors?.[0]).toMatchObject({
      message: 'Too many wrong current passwords: wait 1 second before trying again', extensions: { code: 'TOO_MANY_REQUESTS', retryAfterSeconds: 1 },
    });
    expect(verify).not.toHaveBeenCalled();
    // Nothing changed: the old password still signs in.
    expect(outcomeOf(await login(freshAddress(), 'pw_guesser', PASSWORD))).toBe('ok');
  });

  test('Issue 9 finding 11: two concurrent changes from the same current password: exactly one wins, one history row', async () => {
    const id = await staff('racer');
    const token = await app.login('racer', PASSWORD);
    const answers = await Promise.all(['first new secret', 'second new secret'].map((n) => app.gql(CHANGE, { c: PASSWORD, n }, token)));
    const winners = answers.filter((a) => a.data?.changePassword?.token);
    const losers = answers.filter((a) => a.errors);
    expect(winners).toHaveLength(1);
    expect(losers.map((a) => a.errors![0].message)).toEqual(['The current password is wrong']);
    const winning = answers[0].data?.changePassword ? 'first new secret' : 'second new secret';
    const losing = winning === 'first new secret' ? 'second new secret' : 'first new secret';
    expect(outcomeOf(await login(freshAddress(), 'racer', winning))).toBe('ok');
    expect(outcomeOf(await login(freshAddress(), 'racer', losing))).toBe('wrong');
    expect(await db().query(`SELECT count(*)::int AS n FROM history_entry WHERE user_id = $1 AND field = 'password'`, [id])).toEqual([{ n: 1 }]);
    expect(await db().query(`SELECT count(*)::int AS n FROM event_outbox WHERE aggregate_id = $1 AND event_type = 'PASSWORD_CHANGED'`, [id])).toEqual([{ n: 1 }]);
  });
});
