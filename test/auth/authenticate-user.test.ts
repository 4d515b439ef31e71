import argon2 from 'argon2';
import { dummyPasswordHash } from '../../src/auth/password';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD, PersonSpec } from '../support/fixtures';
import { SMALL_LOGIN_LIMITS } from '../support/small-login-limits';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 13 item 1 (R11.2, R1.4, R1.5): a partner checks a user's password with authenticateUser, through the API as
 * the partner calls it (an API key, or a signed-in operator). Small sign-in limits for this file, as in
 * login-throttling.test.ts: 3 free failures, a 1 s wait after each further one, a lockout at the 6th; each test speaks
 * from a client address of its own (X-Forwarded-For through the trusted loopback proxy).
 */
const LIMITS = SMALL_LOGIN_LIMITS;
const savedEnv = Object.fromEntries(Object.keys(LIMITS).map((k) => [k, process.env[k]]));
Object.assign(process.env, LIMITS);

let app: TestApp;
let inst: InstitutionFixture;
let other: InstitutionFixture;
/** API keys by what they hold: a desk operator at MAIN, a User Manager, a cataloger (no user.authenticate). */
const keys: Record<'desk' | 'manager' | 'cataloger', { secret: string; name: string }> = {} as never;
let adminToken: string;
let managerToken: string;
let reportToken: string;
let nextAddress = 0;
const db = () => app.db.dataSource;
/** A client address no other test uses. */
const freshAddress = () => `203.0.113.${++nextAddress}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const AUTHENTICATE = `mutation($i: String!, $p: String!) { authenticateUser(identifier: $i, password: $p) }`;
const LOGIN = `mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }`;

interface Answer {
  status: number;
  body: GraphQLResponse;
}

/** A GraphQL request with the given credentials header, from `address`. */
async function send(headers: Record<string, string>, query: string, variables: Record<string, unknown>, address = freshAddress()): Promise<Answer> {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': address, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as GraphQLResponse };
}
const byKey = (key: keyof typeof keys, identifier: string, password: string, address?: string) =>
  send({ 'x-api-key': keys[key].secret }, AUTHENTICATE, { i: identifier, p: password }, address);

/** The one answer every failure gets: the whole response body, compared as a value. */
const FAILED = {
  data: null,
  errors: [{ message: 'User authentication failed', locations: [{ line: 1, column: 38 }], path: ['authenticateUser'], extensions: { code: 'UNAUTHENTICATED' } }],
};

const partnerAttempts = (identifier: string) => db().query(
  `SELECT institution_id AS "institutionId", user_id AS "userId", succeeded, reason, channel, requested_by AS "requestedBy"
     FROM login_attempt WHERE identifier = $1 ORDER BY id`, [identifier]);

const person = (spec: PersonSpec) => createPerson(db(), inst, spec);
const patron = (identifier: string, spec: PersonSpec = {}) =>
  person({ primaryIdentifier: identifier, recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']], ...spec });

async function createKey(name: string, roleType: string, scope: Record<string, string>) {
  const res = await app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`,
    { in: { name, roles: [{ roleType, scope }] } }, adminToken);
  if (!res.data?.createApiKey) throw new Error(`createApiKey failed: ${JSON.stringify(res.errors)}`);
  return { secret: res.data.createApiKey.secret as string, name };
}

beforeAll(async () => {
  // Production: the answers a partner gets (no stack traces), compared whole.
  app = await startTestApp({ production: true });
  inst = await createInstitution(db());
  other = await createInstitution(db(), 'OTHER');
  await person({ primaryIdentifier: 'ua', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  await person({ primaryIdentifier: 'um', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await person({ primaryIdentifier: 'gsa', roles: [['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION']] });
  [adminToken, managerToken, reportToken] = await Promise.all(['ua', 'um', 'gsa'].map((id) => app.login(id, PASSWORD)));
  keys.desk = await createKey('Self-check', 'CIRCULATION_DESK_OPERATOR', { type: 'LIBRARY', libraryId: inst.libraries.MAIN.id });
  keys.manager = await createKey('Discovery', 'USER_MANAGER', { type: 'INSTITUTION' });
  keys.cataloger = await createKey('Catalogue', 'CATALOGER', { type: 'INSTITUTION' });
});
afterAll(async () => {
  await app.close();
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
afterEach(() => jest.restoreAllMocks());

describe('R11.2 a partner authenticates a user', () => {
  test('R11.2 an API key holding user.authenticate authenticates a patron with the right password: true, recorded as a partner attempt', async () => {
    const id = await patron('pat_ok');
    const answer = await byKey('desk', 'pat_ok', PASSWORD);
    expect(answer.body).toEqual({ data: { authenticateUser: true } });
    expect(await partnerAttempts('pat_ok')).toEqual([
      { institutionId: inst.id, userId: id, succeeded: true, reason: null, channel: 'PARTNER', requestedBy: 'api-key:Self-check' },
    ]);
  });

  test('R11.2 a signed-in operator holding user.authenticate authenticates too, recorded with its own name', async () => {
    await patron('pat_by_staff');
    const answer = await send({ authorization: `Bearer ${managerToken}` }, AUTHENTICATE, { i: 'pat_by_staff', p: PASSWORD });
    expect(answer.body).toEqual({ data: { authenticateUser: true } });
    expect((await partnerAttempts('pat_by_staff'))[0]).toMatchObject({ succeeded: true, channel: 'PARTNER', requestedBy: 'um' });
  });

  test('R2.4 the primary identifier matches case-insensitively', async () => {
    await patron('Pat_Case');
    expect((await byKey('desk', 'pAT_cASE', PASSWORD)).body).toEqual({ data: { authenticateUser: true } });
  });

  test('R2.3/R2.4 an additional identifier matches exactly, never in another case', async () => {
    await patron('pat_barcode', { identifiers: [['BARCODE', 'Bc-4711']] });
    expect((await byKey('desk', 'Bc-4711', PASSWORD)).body).toEqual({ data: { authenticateUser: true } });
    expect((await byKey('desk', 'bc-4711', PASSWORD)).body).toEqual(FAILED);
  });

  test('R1.4 any record type with a password: a staff user, for a key whose grant reaches staff users', async () => {
    await person({ primaryIdentifier: 'staff_ok', roles: [['CATALOGER', 'INSTITUTION']] });
    expect((await byKey('manager', 'staff_ok', PASSWORD)).body).toEqual({ data: { authenticateUser: true } });
  });

  test('R11.2 the identifier is looked up in the caller\'s institution only: a twin in another institution does not make it ambiguous', async () => {
    await patron('twin_pat');
    await createPerson(db(), other, { primaryIdentifier: 'twin_pat', recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']] });
    expect((await byKey('desk', 'twin_pat', PASSWORD)).body).toEqual({ data: { authenticateUser: true } });
  });

  test('R11.2 a success creates no session and no event, and changes no user data', async () => {
    const id = await patron('pat_quiet');
    const state = () => db().query(
      `SELECT (SELECT count(*)::int FROM event_outbox) AS events, (SELECT count(*)::int FROM history_entry) AS history,
              (SELECT row_to_json(u)::text FROM app_user u WHERE u.id = $1) AS user`, [id]);
    const before = await state();
    expect((await byKey('desk', 'pat_quiet', PASSWORD)).body).toEqual({ data: { authenticateUser: true } });
    expect((await byKey('desk', 'pat_quiet', 'not the password')).body).toEqual(FAILED);
    expect(await state()).toEqual(before);
  });
});

describe('R11.2 every failure is the same UNAUTHENTICATED "User authentication failed"', () => {
  beforeAll(async () => {
    await patron('f_wrong');
    await patron('f_inactive', { status: 'INACTIVE' });
    await patron('f_expired', { expiryDate: '2020-01-01' });
    await patron('f_nopassword', { withPassword: false });
    await createPerson(db(), other, { primaryIdentifier: 'f_elsewhere', recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']] });
    await person({ primaryIdentifier: 'exl_api', roles: [['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION']] });
    await person({ primaryIdentifier: 'saas_admin', roles: [['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION']] });
    await person({ primaryIdentifier: 'f_staff', roles: [['CATALOGER', 'INSTITUTION']] });
  });

  const CASES: [what: string, key: keyof typeof keys, identifier: string, password: string, reason: string][] = [
    ['an unknown identifier', 'manager', 'f_nobody', PASSWORD, 'unknown identifier'],
    ['a wrong password', 'manager', 'f_wrong', 'not the password', 'wrong password'],
    ['an inactive patron with the right password (R1.5)', 'manager', 'f_inactive', PASSWORD, 'inactive or expired'],
    ['an expired patron with the right password (R1.5)', 'manager', 'f_expired', PASSWORD, 'inactive or expired'],
    ['a patron without a password', 'manager', 'f_nopassword', PASSWORD, 'no password'],
    // Another institution's user is simply not there.
    ['a user of another institution with the right password', 'manager', 'f_elsewhere', PASSWORD, 'unknown identifier'],
    ['the technical account exl_api with the right password (R4.5)', 'manager', 'exl_api', PASSWORD, 'technical account'],
    ['the technical account saas_admin with the right password (R4.5)', 'manager', 'saas_admin', PASSWORD, 'technical account'],
    // The desk key's grant reaches patrons only: a staff user with the right password fails like a wrong password.
    ['a circulation desk key on a staff user with the right password (R4.2)', 'desk', 'f_staff', PASSWORD, 'outside the grant of api-key:Self-check'],
  ];

  test.each(CASES)('R11.2 %s: the identical answer, and the reason recorded', async (_what, key, identifier, password, reason) => {
    const answer = await byKey(key, identifier, password);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(FAILED);
    expect((await partnerAttempts(identifier)).at(-1)).toMatchObject({
      institutionId: inst.id, succeeded: false, reason, channel: 'PARTNER', requestedBy: `api-key:${keys[key].name}`,
    });
  });

  test.each(CASES)('R11.2 %s costs one password verification, as a wrong password does', async (_what, key, identifier, password, reason) => {
    const verify = jest.spyOn(argon2, 'verify');
    await byKey(key, identifier, password);
    expect(verify).toHaveBeenCalledTimes(1);
    // Only a user the caller may learn about has its own hash checked; every other refusal checks the dummy hash.
    if (reason === 'wrong password') expect(verify.mock.calls[0][0]).not.toBe(await dummyPasswordHash());
    else expect(verify.mock.calls[0][0]).toBe(await dummyPasswordHash());
  });
});

describe('R11.2 who may ask', () => {
  test('R4.2 an API key without user.authenticate is FORBIDDEN, and nothing is recorded', async () => {
    await patron('pat_cataloger');
    const answer = await byKey('cataloger', 'pat_cataloger', PASSWORD);
    expect(answer.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(answer.body.data ?? null).toBeNull();
    expect(await partnerAttempts('pat_cataloger')).toEqual([]);
  });

  test('R11.2 a staff operator without user.authenticate is FORBIDDEN', async () => {
    await patron('pat_reporter');
    const answer = await send({ authorization: `Bearer ${reportToken}` }, AUTHENTICATE, { i: 'pat_reporter', p: PASSWORD });
    expect(answer.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  test('R11.2 without credentials the caller is UNAUTHENTICATED as for any operation, not told about the user', async () => {
    await patron('pat_anonymous');
    const answer = await send({}, AUTHENTICATE, { i: 'pat_anonymous', p: PASSWORD });
    expect(answer.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(answer.body.errors?.[0].message).not.toBe('User authentication failed');
    expect(await partnerAttempts('pat_anonymous')).toEqual([]);
  });

  test('R11.2 a revoked API key is UNAUTHENTICATED, checks no password and records nothing', async () => {
    await patron('pat_revoked_key');
    const created = await app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret apiKey { id } } }`,
      { in: { name: 'Old kiosk', roles: [{ roleType: 'CIRCULATION_DESK_OPERATOR', scope: { type: 'INSTITUTION' } }] } }, adminToken);
    await app.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: created.data.createApiKey.apiKey.id }, adminToken);
    const verify = jest.spyOn(argon2, 'verify');
    const answer = await send({ 'x-api-key': created.data.createApiKey.secret }, AUTHENTICATE, { i: 'pat_revoked_key', p: PASSWORD });
    expect(answer.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(answer.body.data ?? null).toBeNull();
    expect(verify).not.toHaveBeenCalled();
    expect(await partnerAttempts('pat_revoked_key')).toEqual([]);
  });

  test('R5.2 a fulfilment key scoped to one library authenticates any patron of the institution: patrons belong to no library', async () => {
    await patron('pat_any_library');
    const key = await createKey('Law self-check', 'FULFILLMENT_SERVICES_OPERATOR', { type: 'LIBRARY', libraryId: inst.libraries.LAW.id });
    const answer = await send({ 'x-api-key': key.secret }, AUTHENTICATE, { i: 'pat_any_library', p: PASSWORD });
    expect(answer.body).toEqual({ data: { authenticateUser: true } });
  });

  test('R11.2 two checks of the right password at once both succeed', async () => {
    await patron('pat_twice');
    const answers = await Promise.all([byKey('desk', 'pat_twice', PASSWORD), byKey('manager', 'pat_twice', PASSWORD)]);
    expect(answers.map((a) => a.body)).toEqual([{ data: { authenticateUser: true } }, { data: { authenticateUser: true } }]);
  });

  test('R11.2 a forged API key is UNAUTHENTICATED and checks no password', async () => {
    await patron('pat_forged');
    const verify = jest.spyOn(argon2, 'verify');
    const answer = await send({ 'x-api-key': `${keys.desk.secret.slice(0, -4)}AAAA` }, AUTHENTICATE, { i: 'pat_forged', p: PASSWORD });
    expect(answer.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(verify).not.toHaveBeenCalled();
  });
});

describe('R11.2 input hygiene, as for login', () => {
  test.each([
    ['a NUL byte in the identifier', { i: 'pat\u0000nul', p: PASSWORD }, 'identifier'],
    ['an identifier over 255 characters', { i: 'x'.repeat(256), p: PASSWORD }, 'identifier'],
    ['a NUL byte in the password', { i: 'pat_hygiene', p: `${PASSWORD}\u0000` }, 'password'],
    ['a password over 255 characters', { i: 'pat_hygiene', p: 'p'.repeat(256) }, 'password'],
    ['a zero-width space in the identifier', { i: 'pat\u200bhygiene', p: PASSWORD }, 'identifier'],
  ])('R11.2 %s is BAD_USER_INPUT naming the argument, before any lookup or password check', async (_what, variables, field) => {
    const verify = jest.spyOn(argon2, 'verify');
    const before = await db().query(`SELECT count(*)::int AS n FROM login_attempt`);
    const answer = await send({ 'x-api-key': keys.desk.secret }, AUTHENTICATE, variables);
    expect(answer.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(verify).not.toHaveBeenCalled();
    expect(await db().query(`SELECT count(*)::int AS n FROM login_attempt`)).toEqual(before);
  });

  test('R2.3 surrounding white space of the identifier is trimmed, as for login', async () => {
    await patron('pat_spaces');
    expect((await byKey('desk', '  pat_spaces ', PASSWORD)).body).toEqual({ data: { authenticateUser: true } });
  });
});

describe('R11.2 sign-in limits apply as to login', () => {
  type Outcome = 'ok' | 'failed' | 'wait';
  const outcomeOf = (a: Answer): Outcome => {
    if (a.body.data?.authenticateUser === true) return 'ok';
    const [error] = a.body.errors ?? [];
    if (error?.extensions?.code === 'UNAUTHENTICATED' && error.message === 'User authentication failed') return 'failed';
    if (error?.extensions?.code === 'TOO_MANY_REQUESTS' && a.status === 429) return 'wait';
    throw new Error(`unexpected answer ${JSON.stringify(a.body)}`);
  };
  /** `count` wrong passwords, waiting out each throttled answer. */
  async function guess(identifier: string, count: number, address = freshAddress()): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (let i = 0; i < count; i++) {
      const answer = await byKey('desk', identifier, `guess number ${i}`, address);
      outcomes.push(outcomeOf(answer));
      if (outcomes.at(-1) === 'wait') await sleep(Number(answer.body.errors![0].extensions!.retryAfterSeconds) * 1000 + 100);
    }
    return outcomes;
  }

  test('Issue 9 finding 7: wrong passwords are throttled with waits (TOO_MANY_REQUESTS), then lock the account; locked is the generic failure', async () => {
    await patron('pat_guessed');
    expect(await guess('pat_guessed', 10)).toEqual(['failed', 'failed', 'failed', 'failed', 'wait', 'failed', 'wait', 'failed', 'failed', 'failed']);
    expect((await partnerAttempts('pat_guessed')).map((a: { reason: string }) => a.reason)).toEqual([
      'wrong password', 'wrong password', 'wrong password', 'wrong password', 'throttled: identifier', 'wrong password', 'throttled: identifier',
      'wrong password; locked after 6 consecutive failures', 'locked', 'locked',
    ]);
  });

  test('Issue 9 finding 7: while locked, the right password fails like any other, without a password check', async () => {
    await patron('pat_locked');
    await guess('pat_locked', 8);
    const verify = jest.spyOn(argon2, 'verify');
    expect((await byKey('desk', 'pat_locked', PASSWORD)).body).toEqual(FAILED);
    expect(verify).not.toHaveBeenCalled();
  });

  test('Issue 9 finding 7: an unknown identifier is throttled and locked exactly like a patron', async () => {
    await patron('pat_real');
    expect(await guess('pat_nobody', 10)).toEqual(await guess('pat_real', 10));
  });

  test('Issue 9 finding 7: the lockout is shared with login: a partner\'s guesses lock the account for staff login too, and unlockUser lifts both', async () => {
    const id = await person({ primaryIdentifier: 'staff_locked', roles: [['CATALOGER', 'INSTITUTION']] });
    const guesses: Outcome[] = [];
    for (let i = 0; i < 8; i++) {
      const answer = await byKey('manager', 'staff_locked', `guess ${i}`);
      guesses.push(outcomeOf(answer));
      if (guesses.at(-1) === 'wait') await sleep(1100);
    }
    expect(guesses.at(-1)).toBe('failed');
    const login = await send({}, LOGIN, { i: 'staff_locked', p: PASSWORD });
    expect(login.status).toBe(429);
    expect(login.body.errors?.[0].message).toMatch(/locked/);
    expect((await app.gql(`mutation($u: ID!) { unlockUser(userId: $u) { id } }`, { u: id }, adminToken)).errors).toBeUndefined();
    expect((await byKey('manager', 'staff_locked', PASSWORD)).body).toEqual({ data: { authenticateUser: true } });
  });

  test('Issue 9 finding 7: a success forgets the failures before it', async () => {
    await patron('pat_forgetful');
    expect(await guess('pat_forgetful', 3)).toEqual(['failed', 'failed', 'failed']);
    expect(outcomeOf(await byKey('desk', 'pat_forgetful', PASSWORD))).toBe('ok');
    expect(await guess('pat_forgetful', 4)).toEqual(['failed', 'failed', 'failed', 'failed']);
  });

  test('Issue 9 finding 7: failures are counted per client address too: the partner\'s address waits across identifiers', async () => {
    const address = freshAddress();
    for (let i = 0; i < 5; i++) expect(await guess(`pat_sprayed_${i}`, 1, address)).toEqual(['failed']);
    const next = await byKey('desk', 'pat_sprayed_new', 'guess', address);
    expect(next.status).toBe(429);
    expect(next.body.errors?.[0].message).toBe('Too many failed sign-in attempts from your address: wait 1 second before trying again');
    expect((await partnerAttempts('pat_sprayed_new'))[0]).toMatchObject({ reason: 'throttled: address', channel: 'PARTNER' });
  });
});

describe('R11.1 partner attempts are not staff logins', () => {
  test('R11.1 the staff login report neither lists nor counts them, and a partner check is not a staff user\'s last login', async () => {
    await person({ primaryIdentifier: 'staff_checked', roles: [['CATALOGER', 'INSTITUTION']] });
    const report = async () => (await app.gql(`query($from: DateTime!, $to: DateTime!, $since: DateTime) {
      staffLoginReport(from: $from, to: $to, noLoginSince: $since, first: 1000) {
        successfulCount failedCount attempts { identifier } staffWithoutLoginSince { primaryIdentifier }
      }
    }`, { from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 3600_000).toISOString(), since: new Date(Date.now() - 3600_000).toISOString() },
    reportToken)).data.staffLoginReport;
    const before = await report();
    expect((await byKey('manager', 'staff_checked', PASSWORD)).body).toEqual({ data: { authenticateUser: true } });
    expect((await byKey('manager', 'staff_checked', 'wrong one')).body).toEqual(FAILED);
    const after = await report();
    expect([after.successfulCount, after.failedCount]).toEqual([before.successfulCount, before.failedCount]);
    expect(after.attempts.map((a: { identifier: string }) => a.identifier)).not.toContain('staff_checked');
    expect(after.staffWithoutLoginSince).toContainEqual({ primaryIdentifier: 'staff_checked' });
    expect((await partnerAttempts('staff_checked')).map((a: { succeeded: boolean }) => a.succeeded)).toEqual([true, false]);
  });

  test('R11.2 every partner attempt is readable in the report\'s PARTNER channel, with the key that asked', async () => {
    await patron('pat_reported');
    expect((await byKey('desk', 'pat_reported', PASSWORD)).body).toEqual({ data: { authenticateUser: true } });
    expect((await byKey('desk', 'pat_reported', 'wrong one')).body).toEqual(FAILED);
    const res = await app.gql(`query($from: DateTime!, $to: DateTime!) {
      staffLoginReport(from: $from, to: $to, channel: PARTNER, first: 1000) {
        channel successfulCount failedCount attempts { identifier succeeded reason requestedBy user { primaryIdentifier } }
      }
    }`, { from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 3600_000).toISOString() }, reportToken);
    const report = res.data.staffLoginReport;
    expect(report.channel).toBe('PARTNER');
    expect(report.attempts.filter((a: { identifier: string }) => a.identifier === 'pat_reported')).toEqual([
      { identifier: 'pat_reported', succeeded: false, reason: 'wrong password', requestedBy: `api-key:${keys.desk.name}`, user: { primaryIdentifier: 'pat_reported' } },
      { identifier: 'pat_reported', succeeded: true, reason: null, requestedBy: `api-key:${keys.desk.name}`, user: { primaryIdentifier: 'pat_reported' } },
    ]);
    expect(report.successfulCount).toBeGreaterThanOrEqual(1);
    expect(report.failedCount).toBeGreaterThanOrEqual(1);
  });
});
