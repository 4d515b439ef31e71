import type { DataSource } from 'typeorm';
import { sqlStatementCount } from '../../src/db/sql-logger';
import { createInstitution, createPatron, createPerson, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Specification of user pictures (issue 13 item 7; seeds "Managing User Pictures"): the institution names its photo
 * server (an HTTPS folder URL ending in "/", the identifier type that names the file, the suffix), and each user's
 * pictureUrl is `<url><identifier>.<suffix>`.
 */

let app: TestApp;
let inst: InstitutionFixture;
let tokens: Record<string, string>;
const db = (): DataSource => app.db.dataSource;

const SETTINGS = `{ photoSettings { enabled photoServerUrl photoIdentifierType photoSuffix } }`;
const SET = `mutation($in: PhotoSettingsInput) { setPhotoSettings(input: $in) { enabled photoServerUrl photoIdentifierType photoSuffix } }`;
const PICTURE = `query($id: ID!) { user(id: $id) { pictureUrl } }`;
const VALID = { photoServerUrl: 'https://photos.example.edu/users/', photoIdentifierType: 'BARCODE', photoSuffix: 'png' };
const OFF = { enabled: false, photoServerUrl: null, photoIdentifierType: null, photoSuffix: null };

beforeAll(async () => {
  // No periodic jobs: their statements would count in the statement test below.
  app = await startTestApp({ jobs: false });
  inst = await createInstitution(db());
  const other = await createInstitution(db(), 'OTHER');
  tokens = await loginOperators(app, inst, {
    ua_pics: ['USER_ADMINISTRATOR', 'INSTITUTION'],
    gsa_pics: ['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION'],
    um_pics: ['USER_MANAGER', 'INSTITUTION'],
    ua_main_pics: ['USER_ADMINISTRATOR', 'MAIN'],
    circ_pics: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
  });
  Object.assign(tokens, await loginOperators(app, other, { ua_other_pics: ['USER_ADMINISTRATOR', 'INSTITUTION'] }));
});
afterAll(() => app.close());

/** Sets the settings as the User Administrator and fails the test when refused. */
async function configure(input: typeof VALID | null) {
  const res = await app.gql(SET, { in: input }, tokens.ua_pics);
  expect(res.errors).toBeUndefined();
  return res.data.setPhotoSettings;
}

async function refusal(input: Partial<typeof VALID>) {
  const res = await app.gql(SET, { in: { ...VALID, ...input } }, tokens.ua_pics);
  expect(res.data).toBeNull();
  return res.errors![0].extensions!;
}

test('pictures are off until configured; any operator may read the settings', async () => {
  const res = await app.gql(SETTINGS, {}, tokens.circ_pics);
  expect(res.errors).toBeUndefined();
  expect(res.data.photoSettings).toEqual(OFF);
});

test('a User Administrator sets the photo server settings; every operator reads them', async () => {
  expect(await configure(VALID)).toEqual({ enabled: true, ...VALID });
  expect((await app.gql(SETTINGS, {}, tokens.um_pics)).data.photoSettings).toEqual({ enabled: true, ...VALID });
  await configure(null);
});

test('a change publishes PHOTO_SETTINGS_CHANGED with the changes; the same settings again publish nothing', async () => {
  const count = async () => (await db().query(`SELECT count(*)::int AS n FROM event_outbox WHERE event_type = 'PHOTO_SETTINGS_CHANGED'`))[0].n;
  const before = await count();
  await app.gql(SET, { in: VALID }, tokens.gsa_pics);
  await app.gql(SET, { in: VALID }, tokens.gsa_pics);
  expect(await count()).toBe(before + 1);
  const [event] = await db().query(`SELECT aggregate_type, aggregate_id, actor, payload FROM event_outbox WHERE event_type = 'PHOTO_SETTINGS_CHANGED' ORDER BY id DESC LIMIT 1`);
  expect(event).toEqual({
    aggregate_type: 'INSTITUTION', aggregate_id: inst.id, actor: 'gsa_pics',
    payload: {
      settings: VALID,
      changes: [
        { field: 'photoServerUrl', oldValue: null, newValue: VALID.photoServerUrl },
        { field: 'photoIdentifierType', oldValue: null, newValue: 'BARCODE' },
        { field: 'photoSuffix', oldValue: null, newValue: 'png' },
      ],
    },
  });
  await configure(null);
});

test.each([
  ['http://photos.example.edu/users/', 'must use HTTPS'],
  ['ftp://photos.example.edu/users/', 'must use HTTPS'],
  ['https://photos.example.edu/users', 'must end with a forward slash'],
  ['/users/', 'Not an absolute URL'],
  ['photos.example.edu/users/', 'Not an absolute URL'],
  ['https:photos.example.edu/users/', 'Not an absolute URL'],
  ['https://admin:secret@photos.example.edu/users/', 'user name or password'],
  ['https://photos.example.edu/users/?size=large/', 'query'],
  ['https://photos.example.edu/users/#top/', 'fragment'],
  ['https://photos.example.edu/my users/', 'white space'],
  ['https://photos.example.edu\\users\\', 'backslashes'],
  ['javascript:alert(1)//', 'must use HTTPS'],
])('a photo server URL %j is refused with BAD_USER_INPUT on input.photoServerUrl (%s)', async (url, message) => {
  const ext = await refusal({ photoServerUrl: url });
  expect(ext).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.photoServerUrl' });
  const res = await app.gql(SET, { in: { ...VALID, photoServerUrl: url } }, tokens.ua_pics);
  expect(res.errors![0].message).toContain(message);
});

test('a photo server URL over 2,000 characters is refused with BAD_USER_INPUT naming its field', async () => {
  const ext = await refusal({ photoServerUrl: `https://photos.example.edu/${'a'.repeat(2000)}/` });
  expect(ext).toMatchObject({ code: 'BAD_USER_INPUT' });
  expect(String(ext.field)).toContain('photoServerUrl');
});

test('a NUL byte in the photo server URL is refused', async () => {
  const ext = await refusal({ photoServerUrl: 'https://photos.example.edu/us\u0000ers/' });
  expect(ext.code).toBe('BAD_USER_INPUT');
  expect(String(ext.field)).toContain('photoServerUrl');
});

test.each([
  ['a zero-width space in the URL', { photoServerUrl: 'https://photos.example.edu/\u200busers/' }, 'input.photoServerUrl'],
  ['a bidirectional override in the suffix', { photoSuffix: 'gnp\u202e' }, 'input.photoSuffix'],
  ['a NUL byte in the identifier type', { photoIdentifierType: 'BAR\u0000CODE' }, 'input.photoIdentifierType'],
])('%s is refused with BAD_USER_INPUT naming it, and nothing changes', async (_what, input, field) => {
  expect(await refusal(input)).toMatchObject({ code: 'BAD_USER_INPUT', field });
  expect((await app.gql(SETTINGS, {}, tokens.um_pics)).data.photoSettings).toEqual(OFF);
});

test('the URL is stored as browsers will request it (host in lower case)', async () => {
  expect((await configure({ ...VALID, photoServerUrl: 'https://Photos.EXAMPLE.edu/Users/' })).photoServerUrl).toBe('https://photos.example.edu/Users/');
  await configure(null);
});

test('the identifier type is USERNAME or a configured identifier type; anything else is refused', async () => {
  expect((await configure({ ...VALID, photoIdentifierType: 'USERNAME' })).photoIdentifierType).toBe('USERNAME');
  expect((await configure({ ...VALID, photoIdentifierType: 'UNIV_ID' })).photoIdentifierType).toBe('UNIV_ID');
  expect(await refusal({ photoIdentifierType: 'PASSPORT' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.photoIdentifierType' });
  // Identifier types are codes compared exactly.
  expect(await refusal({ photoIdentifierType: 'barcode' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.photoIdentifierType' });
  await configure(null);
});

test.each(['.png', 'p.ng', 'png!', 'abcdefghijk', '', 'pn g'])('a suffix %j is refused with BAD_USER_INPUT on input.photoSuffix', async (suffix) => {
  const ext = await refusal({ photoSuffix: suffix });
  expect(ext.code).toBe('BAD_USER_INPUT');
  expect(String(ext.field)).toContain('photoSuffix');
});

test('a refused setting changes nothing', async () => {
  await configure(VALID);
  await refusal({ photoSuffix: '.jpg' });
  expect((await app.gql(SETTINGS, {}, tokens.um_pics)).data.photoSettings).toEqual({ enabled: true, ...VALID });
  await configure(null);
});

test.each(['um_pics', 'circ_pics', 'ua_main_pics'])('%s (no photoSettings.manage scoped to the institution) is refused FORBIDDEN and changes nothing', async (who) => {
  const res = await app.gql(SET, { in: VALID }, tokens[who]);
  expect(res.errors![0].extensions!.code).toBe('FORBIDDEN');
  expect((await app.gql(SETTINGS, {}, tokens.um_pics)).data.photoSettings).toEqual(OFF);
});

test('without a token the settings are neither read nor set', async () => {
  expect((await app.gql(SETTINGS, {})).errors![0].extensions!.code).toBe('UNAUTHENTICATED');
  expect((await app.gql(SET, { in: VALID })).errors![0].extensions!.code).toBe('UNAUTHENTICATED');
});

test("another institution's settings are its own", async () => {
  await configure(VALID);
  expect((await app.gql(SETTINGS, {}, tokens.ua_other_pics)).data.photoSettings).toEqual(OFF);
  await configure(null);
});

test('pictureUrl is the URL, the identifier of the configured type (URL-encoded) and the suffix', async () => {
  const id = await createPatron(db(), inst, { identifiers: [['BARCODE', 'B 12/34?#'], ['UNIV_ID', 'U-1']] });
  await configure(VALID);
  expect((await app.gql(PICTURE, { id }, tokens.um_pics)).data.user.pictureUrl).toBe('https://photos.example.edu/users/B%2012%2F34%3F%23.png');
  await configure({ ...VALID, photoIdentifierType: 'UNIV_ID', photoSuffix: 'JPG' });
  expect((await app.gql(PICTURE, { id }, tokens.um_pics)).data.user.pictureUrl).toBe('https://photos.example.edu/users/U-1.JPG');
  await configure(null);
});

test('with USERNAME the primary identifier names the picture', async () => {
  const id = await createPatron(db(), inst, { primaryIdentifier: 'jdoe42' });
  await configure({ ...VALID, photoIdentifierType: 'USERNAME' });
  expect((await app.gql(PICTURE, { id }, tokens.um_pics)).data.user.pictureUrl).toBe('https://photos.example.edu/users/jdoe42.png');
  await configure(null);
});

test('of several identifiers of the type, the first one names the picture', async () => {
  const id = await createPatron(db(), inst, { identifiers: [['BARCODE', 'FIRST-1'], ['BARCODE', 'SECOND-2']] });
  const [first] = await db().query(`SELECT value FROM user_identifier WHERE user_id = $1 ORDER BY id LIMIT 1`, [id]);
  await configure(VALID);
  expect((await app.gql(PICTURE, { id }, tokens.um_pics)).data.user.pictureUrl).toBe(`https://photos.example.edu/users/${first.value}.png`);
  await configure(null);
});

test('pictureUrl is null for a user without an identifier of the type', async () => {
  const id = await createPatron(db(), inst, { identifiers: [['UNIV_ID', 'U-2']] });
  await configure(VALID);
  expect((await app.gql(PICTURE, { id }, tokens.um_pics)).data.user.pictureUrl).toBeNull();
  await configure(null);
});

test('pictureUrl is null when pictures are off (settings cleared)', async () => {
  const id = await createPatron(db(), inst, { identifiers: [['BARCODE', 'OFF-1']] });
  await configure(VALID);
  expect(await configure(null)).toEqual(OFF);
  const res = await app.gql(PICTURE, { id }, tokens.um_pics);
  expect(res.errors).toBeUndefined();
  expect(res.data.user.pictureUrl).toBeNull();
});

test('an operator reads its own pictureUrl; a user without user.read cannot read another user\'s', async () => {
  const own = await createPerson(db(), inst, { primaryIdentifier: 'selfpic', roles: [['CATALOGER', 'INSTITUTION']], identifiers: [['BARCODE', 'SELF-1']] });
  const token = await app.login('selfpic', 'correct horse battery');
  const patron = await createPatron(db(), inst, { identifiers: [['BARCODE', 'OTHER-1']] });
  await configure(VALID);
  const mine = await app.gql(`{ me { pictureUrl } }`, {}, token);
  expect(mine.errors).toBeUndefined();
  expect(mine.data.me.pictureUrl).toBe('https://photos.example.edu/users/SELF-1.png');
  const theirs = await app.gql(PICTURE, { id: patron }, token);
  expect(theirs.errors![0].extensions!.code).toBe('FORBIDDEN');
  expect(own).toBeTruthy();
  await configure(null);
});

test('a users page of 50 asking for pictureUrl costs the same SQL statements as a page of 5', async () => {
  await db().query(
    `INSERT INTO app_user (institution_id, record_type, account_type, primary_identifier, first_name, last_name, created_by, updated_by)
     SELECT $1, 'PUBLIC', 'INTERNAL', 'pic' || g, 'Pic', 'Pictura ' || lpad(g::text, 3, '0'), 'test', 'test' FROM generate_series(1, 60) AS g`,
    [inst.id],
  );
  await db().query(
    `INSERT INTO user_identifier (institution_id, user_id, id_type, value)
     SELECT institution_id, id, 'BARCODE', 'BC-' || primary_identifier FROM app_user WHERE primary_identifier LIKE 'pic%'`,
  );
  await configure(VALID);
  const page = `query($first: Int!) { users(first: $first, filter: { name: "Pictura" }) { edges { node { primaryIdentifier pictureUrl } } } }`;
  const counted = async (first: number) => {
    const before = sqlStatementCount();
    const res = await app.gql(page, { first }, tokens.um_pics);
    expect(res.errors).toBeUndefined();
    return { nodes: res.data.users.edges.map((e: any) => e.node), statements: sqlStatementCount() - before };
  };
  const five = await counted(5);
  const fifty = await counted(50);
  expect(fifty.nodes).toHaveLength(50);
  for (const n of fifty.nodes) expect(n.pictureUrl).toBe(`https://photos.example.edu/users/BC-${n.primaryIdentifier}.png`);
  expect(fifty.statements).toBe(five.statements);
  // eslint-disable-next-line no-console
  console.log(`users page with pictureUrl, SQL statements: first 5 -> ${five.statements}, first 50 -> ${fifty.statements}`);
  await configure(null);
});
