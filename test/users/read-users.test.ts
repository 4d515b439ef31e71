import type { DataSource } from 'typeorm';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD, PersonSpec } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Specification of the user reads of issue 2: `user(id)`, `userByIdentifier`
 * and the `users` list (R1.2, R1.3, R1.5, R2.3, R2.4, R4.2, R4.5).
 */

let app: TestApp;
let inst: InstitutionFixture;
let reader: string;
const db = (): DataSource => app.db.dataSource;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await createPerson(db(), inst, { primaryIdentifier: 'um_read', roles: [['USER_MANAGER', 'INSTITUTION']] });
  reader = await app.login('um_read', PASSWORD);
});
afterAll(() => app.close());

const USER = `query($id: ID!) { user(id: $id) { id primaryIdentifier } }`;
const BY_IDENTIFIER = `query($value: String!) { userByIdentifier(value: $value) { id primaryIdentifier protected } }`;
const USERS = `
  query($first: Int, $after: String, $filter: UsersFilter) {
    users(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id primaryIdentifier displayName activeNotExpired } }
    }
  }`;

async function byIdentifier(value: string, token = reader) {
  const res = await app.gql(BY_IDENTIFIER, { value }, token);
  expect(res.errors).toBeUndefined();
  return res.data.userByIdentifier as { id: string; primaryIdentifier: string; protected: boolean } | null;
}

async function userById(id: string, token = reader) {
  const res = await app.gql(USER, { id }, token);
  expect(res.errors).toBeUndefined();
  return res.data.user as { id: string } | null;
}

async function listUsers(variables: Record<string, unknown>, token = reader) {
  const res = await app.gql(USERS, variables, token);
  expect(res.errors).toBeUndefined();
  return res.data.users as {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { cursor: string; node: { id: string; primaryIdentifier: string | null; displayName: string; activeNotExpired: boolean } }[];
  };
}

/** The ids of every user matching `filter`, in list order. */
async function idsMatching(filter: Record<string, unknown> | undefined, token: string): Promise<string[]> {
  const page = await listUsers({ first: 100, filter }, token);
  expect(page.pageInfo.hasNextPage).toBe(false);
  return page.edges.map((e) => e.node.id);
}

/** A calendar day relative to the database's today, as 'YYYY-MM-DD'. */
async function dbDay(offset: number): Promise<string> {
  const [row] = await db().query(`SELECT (current_date + $1::int)::text AS day`, [offset]);
  return row.day;
}

let worlds = 0;

/**
 * An institution of its own, so list tests see exactly the users they create.
 * Its operator (a STAFF user named "Operator Zz") is one of those users.
 */
async function newWorld() {
  worlds += 1;
  const own = await createInstitution(db(), `W${worlds}`);
  const opIdentifier = `op_w${worlds}`;
  const operatorId = await createPerson(db(), own, {
    primaryIdentifier: opIdentifier, firstName: 'Operator', lastName: 'Zz', roles: [['USER_MANAGER', 'INSTITUTION']],
  });
  const token = await app.login(opIdentifier, PASSWORD);
  let people = 0;
  const person = (spec: PersonSpec = {}) => {
    people += 1;
    return createPerson(db(), own, { primaryIdentifier: `w${worlds}_p${people}`, recordType: 'PUBLIC', ...spec });
  };
  return { inst: own, token, operatorId, person };
}

async function setPreferredLastName(id: string, name: string) {
  await db().query(`UPDATE app_user SET preferred_last_name = $2 WHERE id = $1`, [id, name]);
}

// ---------------------------------------------------------------- lookups (R2.3, R2.4)

describe('looking a user up', () => {
  let miller: string;

  beforeAll(async () => {
    miller = await createPerson(db(), inst, {
      primaryIdentifier: 'AMiller', recordType: 'PUBLIC', identifiers: [['BARCODE', 'BC-77x'], ['UNIV_ID', '2024001']],
    });
  });

  test('user(id) returns the user with that id', async () => {
    expect(await userById(miller)).toEqual({ id: miller, primaryIdentifier: 'AMiller' });
  });

  test('user(id) with an unknown id returns null', async () => {
    expect(await userById('6f1c2a9e-0d4b-4c7e-9a51-3b2f8e7d6c10')).toBeNull();
  });

  test.each(['not-an-id', '', '42', '0123456789abcdef0123456789abcdef0123', '------------------------------------', `${'a'.repeat(8)}-zzzz-4c7e-9a51-3b2f8e7d6c10`])(
    'user(id) with the malformed id %p returns null',
    async (id) => {
      expect(await userById(id)).toBeNull();
    },
  );

  test('R2.3 userByIdentifier finds a user by the exact primary identifier', async () => {
    expect((await byIdentifier('AMiller'))?.id).toBe(miller);
  });

  test('R2.4 userByIdentifier matches the primary identifier case-insensitively', async () => {
    expect((await byIdentifier('amiller'))?.id).toBe(miller);
    expect((await byIdentifier('AMILLER'))?.id).toBe(miller);
  });

  test('R2.3 userByIdentifier finds a user by the exact value of an additional identifier', async () => {
    expect((await byIdentifier('BC-77x'))?.id).toBe(miller);
    expect((await byIdentifier('2024001'))?.id).toBe(miller);
  });

  test('R2.4 userByIdentifier matches an additional identifier case-sensitively', async () => {
    expect(await byIdentifier('BC-77X')).toBeNull();
    expect(await byIdentifier('bc-77x')).toBeNull();
  });

  test('R2.3 a prefix of a primary identifier finds nothing', async () => {
    expect(await byIdentifier('AMill')).toBeNull();
  });

  test('R2.3 a prefix of an additional identifier finds nothing', async () => {
    expect(await byIdentifier('BC-77')).toBeNull();
    expect(await byIdentifier('2024')).toBeNull();
  });

  test('R2.3 a value that merely contains an identifier finds nothing', async () => {
    expect(await byIdentifier('AMiller2')).toBeNull();
    expect(await byIdentifier('xBC-77x')).toBeNull();
  });

  test('R2.3 LIKE wildcards in the value are taken literally', async () => {
    expect(await byIdentifier('AMill%')).toBeNull();
    expect(await byIdentifier('BC-77_')).toBeNull();
  });

  test('R2.4 the additional identifiers B1 and b1 of two users each find their own user', async () => {
    const upper = await createPerson(db(), inst, { primaryIdentifier: 'owner_upper_b1', identifiers: [['BARCODE', 'B1']] });
    const lower = await createPerson(db(), inst, { primaryIdentifier: 'owner_lower_b1', identifiers: [['BARCODE', 'b1']] });
    expect((await byIdentifier('B1'))?.id).toBe(upper);
    expect((await byIdentifier('b1'))?.id).toBe(lower);
  });

  test('userByIdentifier refuses an empty value, naming the field', async () => {
    const res = await app.gql(BY_IDENTIFIER, { value: '  ' }, reader);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'value' });
  });
});

// ---------------------------------------------------------------- institutions are separate

describe('a user of another institution', () => {
  let stranger: string;

  beforeAll(async () => {
    const other = await createInstitution(db(), 'OTHER');
    stranger = await createPerson(db(), other, {
      primaryIdentifier: 'stranger', firstName: 'Quentin', lastName: 'Outsider', recordType: 'PUBLIC', identifiers: [['BARCODE', 'STRANGER-1']],
    });
  });

  test('is invisible to user(id)', async () => {
    expect(await userById(stranger)).toBeNull();
  });

  test('is invisible to userByIdentifier, by primary or additional identifier', async () => {
    expect(await byIdentifier('stranger')).toBeNull();
    expect(await byIdentifier('STRANGER-1')).toBeNull();
  });

  test('is not in the users list, not even by name', async () => {
    const page = await listUsers({ first: 100, filter: { name: 'Outsider' } });
    expect(page.edges).toEqual([]);
    expect(page.totalCount).toBe(0);
    expect((await listUsers({ first: 100 })).edges.map((e) => e.node.id)).not.toContain(stranger);
  });
});

// ---------------------------------------------------------------- R1.2 account type

describe('R1.2 the users list filtered by account type', () => {
  let world: Awaited<ReturnType<typeof newWorld>>;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    world = await newWorld();
    ids.INTERNAL = await world.person({ accountType: 'INTERNAL' });
    ids.EXTERNAL = await world.person({ accountType: 'EXTERNAL' });
    ids.INTERNAL_WITH_EXTERNAL_AUTH = await world.person({ accountType: 'INTERNAL_WITH_EXTERNAL_AUTH' });
  });

  test('R1.2 accountType INTERNAL lists only internal accounts', async () => {
    expect(new Set(await idsMatching({ accountType: 'INTERNAL' }, world.token))).toEqual(new Set([world.operatorId, ids.INTERNAL]));
  });

  test('R1.2 accountType EXTERNAL lists only external accounts', async () => {
    expect(await idsMatching({ accountType: 'EXTERNAL' }, world.token)).toEqual([ids.EXTERNAL]);
  });

  test('R1.2 accountType INTERNAL_WITH_EXTERNAL_AUTH lists only those accounts', async () => {
    expect(await idsMatching({ accountType: 'INTERNAL_WITH_EXTERNAL_AUTH' }, world.token)).toEqual([ids.INTERNAL_WITH_EXTERNAL_AUTH]);
  });

  test('R1.2 without an accountType filter every account type is listed', async () => {
    expect(new Set(await idsMatching(undefined, world.token)))
      .toEqual(new Set([world.operatorId, ids.INTERNAL, ids.EXTERNAL, ids.INTERNAL_WITH_EXTERNAL_AUTH]));
  });
});

// ---------------------------------------------------------------- R1.1 record type

describe('R1.1 the users list filtered by record type', () => {
  let world: Awaited<ReturnType<typeof newWorld>>;
  let patron: string;
  let contact: string;

  beforeAll(async () => {
    world = await newWorld();
    patron = await world.person({ recordType: 'PUBLIC' });
    contact = await world.person({ recordType: 'CONTACT', withPassword: false });
  });

  test('R1.1 recordType PUBLIC lists only patrons', async () => {
    expect(await idsMatching({ recordType: 'PUBLIC' }, world.token)).toEqual([patron]);
  });

  test('R1.1 recordType STAFF lists only staff users', async () => {
    expect(await idsMatching({ recordType: 'STAFF' }, world.token)).toEqual([world.operatorId]);
  });

  test('R1.1 recordType CONTACT lists only contacts', async () => {
    expect(await idsMatching({ recordType: 'CONTACT' }, world.token)).toEqual([contact]);
  });

  test('filters combine: every given filter must match', async () => {
    expect(await idsMatching({ recordType: 'STAFF', accountType: 'EXTERNAL' }, world.token)).toEqual([]);
    expect(await idsMatching({ recordType: 'STAFF', accountType: 'INTERNAL' }, world.token)).toEqual([world.operatorId]);
  });
});

// ---------------------------------------------------------------- R1.5 status

describe('R1.5 the users list filtered by status', () => {
  let world: Awaited<ReturnType<typeof newWorld>>;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    world = await newWorld();
    ids.noExpiry = await world.person({ status: 'ACTIVE', expiryDate: null });
    ids.expiresLater = await world.person({ status: 'ACTIVE', expiryDate: await dbDay(30) });
    ids.expiresTomorrow = await world.person({ status: 'ACTIVE', expiryDate: await dbDay(1) });
    ids.expiresToday = await world.person({ status: 'ACTIVE', expiryDate: await dbDay(0) });
    ids.expiredYesterday = await world.person({ status: 'ACTIVE', expiryDate: await dbDay(-1) });
    ids.inactive = await world.person({ status: 'INACTIVE', expiryDate: null });
    ids.inactiveExpiresLater = await world.person({ status: 'INACTIVE', expiryDate: await dbDay(30) });
  });

  test('R1.5 ACTIVE_NOT_EXPIRED lists active users with no expiry date or one in the future', async () => {
    expect(new Set(await idsMatching({ status: 'ACTIVE_NOT_EXPIRED' }, world.token)))
      .toEqual(new Set([world.operatorId, ids.noExpiry, ids.expiresLater, ids.expiresTomorrow]));
  });

  test('R1.5 INACTIVE_OR_EXPIRED lists inactive users and users expiring today or earlier', async () => {
    expect(new Set(await idsMatching({ status: 'INACTIVE_OR_EXPIRED' }, world.token)))
      .toEqual(new Set([ids.expiresToday, ids.expiredYesterday, ids.inactive, ids.inactiveExpiresLater]));
  });

  test('R1.5 each user’s activeNotExpired agrees with the status filter', async () => {
    const page = await listUsers({ first: 100 }, world.token);
    const active = new Set(await idsMatching({ status: 'ACTIVE_NOT_EXPIRED' }, world.token));
    for (const { node } of page.edges) expect([node.id, node.activeNotExpired]).toEqual([node.id, active.has(node.id)]);
  });
});

// ---------------------------------------------------------------- R1.3 name search

describe('R1.3 the users list filtered by name', () => {
  let world: Awaited<ReturnType<typeof newWorld>>;
  const ids: Record<string, string> = {};
  const named = (name: string) => idsMatching({ name }, world.token).then((found) => new Set(found));

  beforeAll(async () => {
    world = await newWorld();
    ids.annSmith = await world.person({ firstName: 'Ann', lastName: 'Smith' });
    ids.annabelJones = await world.person({ firstName: 'Annabel', lastName: 'Jones' });
    ids.bobSmithers = await world.person({ firstName: 'Robert', lastName: 'Smithers', preferredFirstName: 'Robbie' });
    ids.carlaDiaz = await world.person({ firstName: 'Carla', lastName: 'Diaz' });
    await setPreferredLastName(ids.carlaDiaz, 'Ramos');
    ids.percent = await world.person({ firstName: 'Per', lastName: 'Cent' });
    ids.emileZola = await world.person({ firstName: 'Émile', lastName: 'Zola' });
  });

  test('R1.3 a name matches anywhere in the first and last names', async () => {
    expect(await named('smith')).toEqual(new Set([ids.annSmith, ids.bobSmithers]));
  });

  test('R1.3 a name search is case-insensitive', async () => {
    expect(await named('SMITH')).toEqual(new Set([ids.annSmith, ids.bobSmithers]));
    expect(await named('aNn')).toEqual(new Set([ids.annSmith, ids.annabelJones]));
  });

  test('R1.3 a name search ignores the case of accented letters', async () => {
    expect(await named('émile')).toEqual(new Set([ids.emileZola]));
    expect(await named('ÉMILE ZOLA')).toEqual(new Set([ids.emileZola]));
  });

  test('R1.3 a name search matches a preferred first name', async () => {
    expect(await named('robbie')).toEqual(new Set([ids.bobSmithers]));
  });

  test('R1.3 a name search matches a preferred last name', async () => {
    expect(await named('Ramos')).toEqual(new Set([ids.carlaDiaz]));
  });

  test('R1.3 a name search still matches the main names when preferred names are set', async () => {
    expect(await named('Robert')).toEqual(new Set([ids.bobSmithers]));
    expect(await named('Diaz')).toEqual(new Set([ids.carlaDiaz]));
  });

  test('R1.3 several words must all match, in any order', async () => {
    expect(await named('ann smith')).toEqual(new Set([ids.annSmith]));
    expect(await named('Smith  Ann')).toEqual(new Set([ids.annSmith]));
  });

  test('R1.3 words may match a main and a preferred name together', async () => {
    expect(await named('robbie smithers')).toEqual(new Set([ids.bobSmithers]));
  });

  test('R1.3 a name that matches nobody lists nobody and counts zero', async () => {
    const page = await listUsers({ first: 100, filter: { name: 'nobody-is-called-this' } }, world.token);
    expect(page).toMatchObject({ edges: [], totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null } });
  });

  test('R1.3 LIKE wildcards in a name search are taken literally', async () => {
    expect(await named('%')).toEqual(new Set());
    expect(await named('_')).toEqual(new Set());
  });
});

// ---------------------------------------------------------------- sorting and paging

describe('the users list order', () => {
  let world: Awaited<ReturnType<typeof newWorld>>;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    world = await newWorld();
    ids.zoeAdams = await world.person({ firstName: 'Zoe', lastName: 'Adams' });
    ids.annaBrown = await world.person({ firstName: 'Anna', lastName: 'Brown' });
    ids.bellaClark = await world.person({ firstName: 'bella', lastName: 'clark' });
    ids.xavierYoung = await world.person({ firstName: 'Xavier', lastName: 'Young' });
    await setPreferredLastName(ids.xavierYoung, 'Able');
    ids.aaronBrown = await world.person({ firstName: 'Aaron', lastName: 'Brown', preferredFirstName: 'Ziggy' });
  });

  test('R1.3 users are sorted by the names shown (preferred names first): last name, then first name, ignoring case', async () => {
    const page = await listUsers({ first: 100 }, world.token);
    expect(page.edges.map((e) => e.node.displayName)).toEqual([
      'Xavier Able', // preferred last name Able replaces Young
      'Zoe Adams',
      'Anna Brown',
      'Ziggy Brown', // preferred first name Ziggy replaces Aaron
      'bella clark',
      'Operator Zz',
    ]);
  });
});

describe('paging through the users list', () => {
  let world: Awaited<ReturnType<typeof newWorld>>;
  let everyone: string[];

  beforeAll(async () => {
    world = await newWorld();
    const patrons = [
      await world.person({ firstName: 'Sam', lastName: 'Lee' }),
      await world.person({ firstName: 'Sam', lastName: 'Lee' }),
      await world.person({ firstName: 'Sam', lastName: 'Lee' }),
      await world.person({ firstName: 'Kim', lastName: 'Park' }),
      await world.person({ firstName: 'Ola', lastName: 'Nordmann' }),
      await world.person({ firstName: 'Eve', lastName: 'Adler' }),
      await world.person({ firstName: 'Ivo', lastName: 'Horvat' }),
    ];
    everyone = [world.operatorId, ...patrons];
  });

  test('pages of 2 followed with `after` visit every user exactly once, in list order, and the last page has no next page', async () => {
    const visited: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page = await listUsers({ first: 2, after }, world.token);
      pages += 1;
      expect(page.edges.length).toBeGreaterThan(0);
      expect(page.edges.length).toBeLessThanOrEqual(2);
      visited.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
      expect(pages).toBeLessThan(10);
    }
    expect(pages).toBe(4);
    expect(new Set(visited).size).toBe(visited.length);
    expect(new Set(visited)).toEqual(new Set(everyone));
    expect(visited).toEqual(await idsMatching(undefined, world.token));
  });

  test('the endCursor of a page is the cursor of its last edge', async () => {
    const page = await listUsers({ first: 3 }, world.token);
    expect(page.pageInfo.endCursor).toBe(page.edges[2].cursor);
  });

  test('totalCount counts every user matching the filter, not just the page', async () => {
    const first = await listUsers({ first: 2, filter: { recordType: 'PUBLIC' } }, world.token);
    expect(first.edges).toHaveLength(2);
    expect(first.totalCount).toBe(7);
    const second = await listUsers({ first: 2, after: first.pageInfo.endCursor, filter: { recordType: 'PUBLIC' } }, world.token);
    expect(second.totalCount).toBe(7);
    expect((await listUsers({ first: 2, filter: { name: 'lee' } }, world.token)).totalCount).toBe(3);
  });

  test('a page that ends exactly at the last user has no next page', async () => {
    const page = await listUsers({ first: 8 }, world.token);
    expect(page.edges).toHaveLength(8);
    expect(page.pageInfo.hasNextPage).toBe(false);
  });

  test('without `first` a page holds up to 20 users; first: 100 is allowed', async () => {
    expect((await listUsers({}, world.token)).edges).toHaveLength(8);
    expect((await listUsers({ first: 100 }, world.token)).edges).toHaveLength(8);
  });

  test.each([0, -1, 101])('refuses first: %p, naming the field first', async (first) => {
    const res = await app.gql(USERS, { first }, world.token);
    expect(res.data).toBeNull();
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  test.each([
    ['plain garbage', 'not a cursor!'],
    ['base64 of something else', Buffer.from('{"hello":"world"}').toString('base64url')],
    ['a cursor whose id is not a uuid', Buffer.from(JSON.stringify(['lee sam', '------------------------------------'])).toString('base64url')],
    ['a cursor whose id has 36 hex digits', Buffer.from(JSON.stringify(['lee sam', '0123456789abcdef0123456789abcdef0123'])).toString('base64url')],
  ])('refuses %s as the `after` cursor, as BAD_USER_INPUT', async (_what, after) => {
    const res = await app.gql(USERS, { first: 2, after }, world.token);
    expect(res.data).toBeNull();
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});

// ---------------------------------------------------------------- R4.2 who may read

describe('R4.2 who may read users', () => {
  const QUERIES: [string, string, Record<string, unknown>][] = [
    ['users', USERS, { first: 5 }],
    ['user', USER, { id: '6f1c2a9e-0d4b-4c7e-9a51-3b2f8e7d6c10' }],
    ['userByIdentifier', BY_IDENTIFIER, { value: 'um_read' }],
  ];

  async function tokenFor(primaryIdentifier: string, roleType: string, scope = 'INSTITUTION') {
    await createPerson(db(), inst, { primaryIdentifier, roles: [[roleType, scope]] });
    return app.login(primaryIdentifier, PASSWORD);
  }

  let cataloger: string;
  beforeAll(async () => {
    cataloger = await tokenFor('cat_only', 'CATALOGER');
  });

  test.each(QUERIES)('R4.2 an operator with only CATALOGER may not read %s: FORBIDDEN', async (name, query, variables) => {
    const res = await app.gql(query, variables, cataloger);
    expect(res.data?.[name] ?? null).toBeNull();
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  test.each(QUERIES)('reading %s without a token is UNAUTHENTICATED', async (name, query, variables) => {
    const res = await app.gql(query, variables);
    expect(res.data?.[name] ?? null).toBeNull();
    expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  test.each([
    ['USER_ADMINISTRATOR', 'INSTITUTION'],
    ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
    ['CIRCULATION_DESK_MANAGER', 'MAIN'],
    ['FULFILLMENT_SERVICES_OPERATOR', 'INSTITUTION'],
  ])('R4.2 an operator with %s may read users', async (roleType, scope) => {
    const token = await tokenFor(`reader_${roleType.toLowerCase()}`, roleType, scope);
    const page = await listUsers({ first: 100 }, token);
    expect(page.edges.map((e) => e.node.primaryIdentifier)).toContain('um_read');
    expect((await byIdentifier('um_read', token))?.primaryIdentifier).toBe('um_read');
  });
});

// ---------------------------------------------------------------- R4.5 protected accounts

describe('R4.5 protected accounts', () => {
  beforeAll(async () => {
    for (const primaryIdentifier of ['exl_impl', 'leganto_guest', 'rialto_x', 'alex_lee', 'plain_exl_user']) {
      await createPerson(db(), inst, { primaryIdentifier, recordType: 'STAFF' });
    }
  });

  test.each(['exl_impl', 'leganto_guest', 'rialto_x'])('R4.5 %s is shown as protected', async (primaryIdentifier) => {
    expect(await byIdentifier(primaryIdentifier)).toMatchObject({ primaryIdentifier, protected: true });
  });

  test.each(['alex_lee', 'plain_exl_user', 'um_read'])('R4.5 %s is not protected', async (primaryIdentifier) => {
    expect(await byIdentifier(primaryIdentifier)).toMatchObject({ primaryIdentifier, protected: false });
  });
});
