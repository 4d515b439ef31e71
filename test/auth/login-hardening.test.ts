import argon2 from 'argon2';
import { ARGON2_OPTIONS, dummyPasswordHash, hashPassword, verifyLoginPassword, verifyPassword } from '../../src/auth/password';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

let app: TestApp;
let inst: InstitutionFixture;
let other: InstitutionFixture;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(app.db.dataSource);
  other = await createInstitution(app.db.dataSource, 'OTHER');
});
afterAll(() => app.close());
afterEach(() => jest.restoreAllMocks());

const LOGIN = `mutation($i: String!, $p: String!, $c: String) {
  login(identifier: $i, password: $p, institution: $c) { token user { id primaryIdentifier } }
}`;
const WRONG = { message: 'Invalid identifier or password', extensions: { code: 'UNAUTHENTICATED' } };

/** The algorithm and parameters an encoded argon2 hash carries, e.g. `$argon2id$v=19$m=65536,p=4,t=3$salt$hash`. */
function encodedParameters(hash: string) {
  const [, type, , params] = hash.split('$');
  return { type, ...Object.fromEntries(params.split(',').map((kv) => kv.split('='))) };
}
const PINNED = { type: 'argon2id', m: '65536', t: '3', p: '4' };

async function attempts(identifier: string) {
  return app.db.dataSource.query(
    `SELECT institution_id AS "institutionId", user_id AS "userId", succeeded, reason FROM login_attempt WHERE identifier = $1 ORDER BY id`,
    [identifier],
  );
}

describe('R1.4 password hashing parameters are pinned', () => {
  test('R1.4 the pinned argon2 parameters are argon2id, m=65536 KiB, t=3, p=4', () => {
    expect(ARGON2_OPTIONS).toMatchObject({ type: argon2.argon2id, memoryCost: 65536, timeCost: 3, parallelism: 4 });
  });

  test("R1.4 hashPassword's output encodes argon2id with m=65536,t=3,p=4", async () => {
    const hash = await hashPassword('a fine password');
    expect(encodedParameters(hash)).toEqual(PINNED);
    expect(await verifyPassword(hash, 'a fine password')).toBe(true);
  });

  test('R1.4 verifyPassword of a missing hash is false', async () => {
    expect(await verifyPassword(null, PASSWORD)).toBe(false);
    expect(await verifyPassword(null, '')).toBe(false);
  });

  test('R1.4 the dummy hash is made once, from random bytes, with the pinned parameters', async () => {
    const first = await dummyPasswordHash();
    expect(encodedParameters(first)).toEqual(PINNED);
    expect(await dummyPasswordHash()).toBe(first);
  });

  test('R1.4 a login check without a hash still runs one verification, against the dummy hash, and is false', async () => {
    const verify = jest.spyOn(argon2, 'verify');
    expect(await verifyLoginPassword(null, PASSWORD)).toBe(false);
    expect(verify).toHaveBeenCalledTimes(1);
    expect(verify.mock.calls[0][0]).toBe(await dummyPasswordHash());
  });
});

describe('R4.5/R1.4 passwordless staff accounts', () => {
  let id: string;
  beforeAll(async () => {
    id = await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'nopw_staff', withPassword: false, roles: [['USER_MANAGER', 'INSTITUTION']] });
  });

  test.each([PASSWORD, '', 'password', 'correct horse battery staple'])(
    'R4.5/R1.4 a passwordless staff account refuses the password %p like a wrong password, and the attempt is recorded',
    async (password) => {
      const before = (await attempts('nopw_staff')).length;
      const verify = jest.spyOn(argon2, 'verify');
      const res = await app.gql(LOGIN, { i: 'nopw_staff', p: password });
      expect(res.errors?.[0]).toMatchObject(WRONG);
      expect(res.data).toBeNull();
      // The same cost as a wrong password: one verification, against the dummy hash.
      expect(verify).toHaveBeenCalledTimes(1);
      expect(verify.mock.calls[0][0]).toBe(await dummyPasswordHash());
      expect((await attempts('nopw_staff')).slice(before)).toEqual([{ institutionId: inst.id, userId: id, succeeded: false, reason: 'no password' }]);
    },
  );

  test('R11.1 an unknown identifier costs one verification against the dummy hash and is recorded', async () => {
    const verify = jest.spyOn(argon2, 'verify');
    const res = await app.gql(LOGIN, { i: 'nobody-at-all', p: PASSWORD });
    expect(res.errors?.[0]).toMatchObject(WRONG);
    expect(verify).toHaveBeenCalledTimes(1);
    expect(verify.mock.calls[0][0]).toBe(await dummyPasswordHash());
    expect(await attempts('nobody-at-all')).toEqual([{ institutionId: null, userId: null, succeeded: false, reason: 'unknown identifier' }]);
  });
});

describe('R11.1 an identifier in several institutions', () => {
  let here: string;
  let there: string;
  beforeAll(async () => {
    here = await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'twin', roles: [['USER_MANAGER', 'INSTITUTION']] });
    there = await createPerson(app.db.dataSource, other, { primaryIdentifier: 'twin', roles: [['USER_MANAGER', 'INSTITUTION']] });
  });

  test('R11.1 without an institution code, even the right password gets the generic refusal, after one verification, recorded in each institution', async () => {
    const verify = jest.spyOn(argon2, 'verify');
    const res = await app.gql(LOGIN, { i: 'twin', p: PASSWORD });
    expect(res.errors).toHaveLength(1);
    expect(res.errors?.[0]).toMatchObject(WRONG);
    expect(res.data).toBeNull();
    expect(verify).toHaveBeenCalledTimes(1);
    expect(verify.mock.calls[0][0]).toBe(await dummyPasswordHash());
    const reason = 'identifier in several institutions; no institution code given';
    expect(await attempts('twin')).toEqual(
      expect.arrayContaining([
        { institutionId: inst.id, userId: here, succeeded: false, reason },
        { institutionId: other.id, userId: there, succeeded: false, reason },
      ]),
    );
    expect(await attempts('twin')).toHaveLength(2);
  });

  test('R11.1 without an institution code, a wrong password gets the same answer as the right one', async () => {
    const res = await app.gql(LOGIN, { i: 'TWIN', p: 'not the password' });
    expect(res.errors?.[0]).toMatchObject(WRONG);
  });

  test('R11.1 with the institution code and the right password, the user of that institution logs in', async () => {
    const res = await app.gql(LOGIN, { i: 'twin', p: PASSWORD, c: 'OTHER' });
    expect(res.errors).toBeUndefined();
    expect(res.data.login.token).toMatch(/^ey/);
    expect(res.data.login.user).toEqual({ id: there, primaryIdentifier: 'twin' });
    expect((await attempts('twin')).at(-1)).toEqual({ institutionId: other.id, userId: there, succeeded: true, reason: null });
  });
});
