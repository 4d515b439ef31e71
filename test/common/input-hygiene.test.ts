import { getNamedType, GraphQLInputType, isInputObjectType, isListType, isNonNullType, isScalarType } from 'graphql';
import type { DataSource } from 'typeorm';
import { buildSchema } from '../../src/schema';
import { configureFines } from '../fines/fine-fixtures';
import { createInstitution, createPatron, InstitutionFixture, loginOperators } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';

/**
 * The input-hygiene layer (issue 9 findings 1-4 and the invisible-character
 * part of 14): every argument is normalised and bounded before any resolver
 * runs, a refusal is BAD_USER_INPUT naming the value's path, and a refused
 * request writes nothing.
 */

let app: TestApp;
let inst: InstitutionFixture;
let tokens: Record<string, string>;
const db = (): DataSource => app.db.dataSource;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await configureFines(db(), inst);
  tokens = await loginOperators(app, inst, { um: ['USER_MANAGER', 'INSTITUTION'] });
});
afterAll(() => app.close());

/** A fingerprint of every table: a refused request must leave each one as it was. */
async function everything(): Promise<Record<string, string>> {
  const tables: { name: string }[] = await db().query(
    // user_count_delta is derived from app_user, and the server's compaction rewrites it at any moment without changing a count;
    // job_lease changes whenever one of the server's periodic jobs runs.
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
        AND table_name NOT IN ('user_count_delta', 'job_lease') ORDER BY 1`,
  );
  const fingerprint: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await db().query(`SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS f FROM "${name}" t`);
    fingerprint[name] = row.f;
  }
  return fingerprint;
}

/** Sends the request and expects BAD_USER_INPUT naming `field`, with nothing written anywhere. */
async function refusedUnchanged(field: string, send: () => Promise<GraphQLResponse>): Promise<NonNullable<GraphQLResponse['errors']>[number]> {
  const before = await everything();
  const res = await send();
  expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  expect(res.data?.[Object.keys(res.data ?? {})[0]] ?? null).toBeNull();
  expect(await everything()).toEqual(before);
  return res.errors![0];
}

let serial = 0;
function newPatron(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  serial += 1;
  return {
    recordType: 'PUBLIC', primaryIdentifier: `hyg${serial}`, firstName: 'Ada', lastName: `Lovelace${serial}`, userGroup: 'UNDERGRAD',
    emails: [{ address: `hyg${serial}@example.edu`, type: 'PERSONAL' }],
    ...overrides,
  };
}
const CREATE = `mutation($in: CreateUserInput!) { createUser(input: $in) { user { id primaryIdentifier lastName identifiers { value } } } }`;
const createUser = (input: Record<string, unknown>) => app.gql(CREATE, { in: input }, tokens.um);

const NUL = 'a\u0000b';

describe('Issue 9 finding 1: a NUL character in any string argument is BAD_USER_INPUT naming the field, and nothing is written', () => {
  test('in login, unauthenticated', async () => {
    await refusedUnchanged('identifier', () => app.gql(`mutation($i: String!) { login(identifier: $i, password: "whatever1") { token } }`, { i: NUL }));
  });

  test('in userByIdentifier', async () => {
    await refusedUnchanged('value', () => app.gql(`query($v: String!) { userByIdentifier(value: $v) { id } }`, { v: NUL }, tokens.um));
  });

  test('in a users filter', async () => {
    const error = await refusedUnchanged('filter.campus', () => app.gql(`query($f: UsersFilter) { users(filter: $f) { totalCount } }`, { f: { campus: NUL } }, tokens.um));
    expect(error.message).toMatch(/filter\.campus contains a control character \(U\+0000\)/);
  });

  test('in createUser, deep in a list', async () => {
    const input = newPatron({ identifiers: [{ type: 'BARCODE', value: 'ok-1' }, { type: 'BARCODE', value: NUL }] });
    await refusedUnchanged('input.identifiers[1].value', () => createUser(input));
  });

  test('in a note, a block and a fine comment', async () => {
    const userId = await createPatron(db(), inst);
    await refusedUnchanged('input.text', () =>
      app.gql(`mutation($u: ID!, $in: NoteInput!) { addNote(userId: $u, input: $in) { id } }`, { u: userId, in: { text: NUL } }, tokens.um));
    await refusedUnchanged('input.note', () =>
      app.gql(`mutation($u: ID!, $in: BlockInput!) { addBlock(userId: $u, input: $in) { id } }`, { u: userId, in: { type: 'GENERAL', note: NUL } }, tokens.um));
    await refusedUnchanged('input.comment', () =>
      app.gql(`mutation($u: ID!, $in: AddFineInput!) { addFine(userId: $u, input: $in) { id } }`,
        { u: userId, in: { type: 'OVERDUEFINE', amount: '5.00', comment: NUL } }, tokens.um));
  });

  test('a query literal is refused the same way as a variable', async () => {
    await refusedUnchanged('value', () => app.gql(`query { userByIdentifier(value: "a\\u0000b") { id } }`, {}, tokens.um));
  });

  test('free text keeps its line breaks and tabs; a single-line field refuses them', async () => {
    const userId = await createPatron(db(), inst);
    const note = await app.gql(`mutation($u: ID!, $in: NoteInput!) { addNote(userId: $u, input: $in) { text } }`,
      { u: userId, in: { text: 'Line one\n\tLine two' } }, tokens.um);
    expect(note.data?.addNote.text).toBe('Line one\n\tLine two');
    const error = await refusedUnchanged('input.lastName', () => createUser(newPatron({ lastName: 'Love\nlace' })));
    expect(error.message).toMatch(/line break/);
  });
});

describe('Issue 9 finding 2: strings and lists have documented maximums', () => {
  test('a 2,800-character last name is refused naming the limit', async () => {
    const error = await refusedUnchanged('input.lastName', () => createUser(newPatron({ lastName: 'x'.repeat(2800) })));
    expect(error.extensions).toMatchObject({ limit: 255 });
    expect(error.message).toMatch(/2800 characters long: at most 255/);
  });

  test('a 2,800-character identifier is refused naming the limit', async () => {
    const error = await refusedUnchanged('input.identifiers[0].value', () =>
      createUser(newPatron({ identifiers: [{ type: 'BARCODE', value: '7'.repeat(2800) }] })));
    expect(error.extensions).toMatchObject({ limit: 255 });
  });

  test('a 100,000-character title is refused naming the limit', async () => {
    const error = await refusedUnchanged('input.title', () => createUser(newPatron({ title: 'T'.repeat(100_000) })));
    expect(error.extensions).toMatchObject({ limit: 255 });
  });

  test('createUser with 5,000 identifiers or 3,000 emails is refused', async () => {
    const identifiers = Array.from({ length: 5000 }, (_, i) => ({ type: 'BARCODE', value: `B${i}` }));
    const many = await refusedUnchanged('input.identifiers', () => createUser(newPatron({ identifiers })));
    expect(many.extensions).toMatchObject({ limit: 20 });
    const emails = Array.from({ length: 3000 }, (_, i) => ({ address: `m${i}@example.edu`, type: 'PERSONAL' }));
    await refusedUnchanged('input.emails', () => createUser(newPatron({ emails })));
  });

  test('the role list of a profile is bounded', async () => {
    const roles = Array.from({ length: 51 }, () => ({ roleType: 'CATALOGER', scope: { type: 'INSTITUTION' } }));
    const admin = (await loginOperators(app, inst, { ua: ['USER_ADMINISTRATOR', 'INSTITUTION'] })).ua;
    await refusedUnchanged('input.roles', () =>
      app.gql(`mutation($in: RoleProfileInput!) { createRoleProfile(input: $in) { id } }`, { in: { name: 'Too many', roles } }, admin));
  });

  test('a value at its maximum, in 4-byte characters, is stored: the limits stay under the database\'s index row size', async () => {
    const wide = '\u{1D49C}'.repeat(255); // MATHEMATICAL SCRIPT CAPITAL A: 4 bytes in UTF-8, 2 UTF-16 units
    const res = await createUser(newPatron({ firstName: wide, lastName: wide, identifiers: [{ type: 'BARCODE', value: wide }] }));
    expect(res.errors).toBeUndefined();
    expect(res.data.createUser.user.lastName).toBe(wide);
  });
});

describe('Issue 9 finding 3: dates lie between 1850-01-01 and 9999-12-31', () => {
  test('a birth date in year 0000 is BAD_USER_INPUT naming the field', async () => {
    const error = await refusedUnchanged('input.birthDate', () => createUser(newPatron({ birthDate: '0000-01-01' })));
    expect(error.message).toMatch(/1850-01-01 to 9999-12-31/);
  });

  test('an expiringBefore filter in year 0000 is BAD_USER_INPUT naming the field', async () => {
    await refusedUnchanged('filter.expiringBefore', () =>
      app.gql(`query($f: UsersFilter) { users(filter: $f) { totalCount } }`, { f: { expiringBefore: '0000-06-15' } }, tokens.um));
  });

  test('the first and last days of the range are accepted', async () => {
    const res = await app.gql(`query($f: UsersFilter) { users(filter: $f) { totalCount } }`, { f: { expiringBefore: '9999-12-31' } }, tokens.um);
    expect(res.errors).toBeUndefined();
    const born = await createUser(newPatron({ birthDate: '1850-01-01' }));
    expect(born.errors).toBeUndefined();
  });
});

describe('Issue 9 finding 4: money is bounded', () => {
  const ADD_FINE = `mutation($u: ID!, $in: AddFineInput!) { addFine(userId: $u, input: $in) { id originalAmount } }`;

  test('a 999,999,999,999.99 fine is refused with a message about the maximum, not about decimals', async () => {
    const userId = await createPatron(db(), inst);
    const error = await refusedUnchanged('input.amount', () => app.gql(ADD_FINE, { u: userId, in: { type: 'OVERDUEFINE', amount: '999999999999.99' } }, tokens.um));
    expect(error.message).toMatch(/at most 999999999\.99/);
    expect(error.message).not.toMatch(/decimals/);
  });

  test('a badly written amount in a variable is refused before execution, the message naming the variable and field', async () => {
    const userId = await createPatron(db(), inst);
    const before = await everything();
    const res = await app.gql(ADD_FINE, { u: userId, in: { type: 'OVERDUEFINE', amount: '1.005' } }, tokens.um);
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toMatch(/"\$in".*at "in\.amount"; Decimal takes at most two decimals/);
    expect(await everything()).toEqual(before);
  });

  test('a fine over the institution\'s maximum is refused naming it; the maximum is the institution\'s to set', async () => {
    const userId = await createPatron(db(), inst);
    const settings = await app.gql(`{ fineSettings { maximumAmount } }`, {}, tokens.um);
    expect(settings.data.fineSettings.maximumAmount).toBe('10000.00');
    const over = await refusedUnchanged('input.amount', () => app.gql(ADD_FINE, { u: userId, in: { type: 'OVERDUEFINE', amount: '10000.01' } }, tokens.um));
    expect(over.message).toMatch(/maximum of 10000\.00/);
    expect(over.extensions).toMatchObject({ limit: '10000.00' });
    const atMost = await app.gql(ADD_FINE, { u: userId, in: { type: 'OVERDUEFINE', amount: '10000.00' } }, tokens.um);
    expect(atMost.data.addFine.originalAmount).toBe('10000.00');
    await db().query(`UPDATE institution SET maximum_amount = 50000 WHERE id = $1`, [inst.id]);
    try {
      const raised = await app.gql(ADD_FINE, { u: userId, in: { type: 'OVERDUEFINE', amount: '20000.00' } }, tokens.um);
      expect(raised.errors).toBeUndefined();
    } finally {
      await db().query(`UPDATE institution SET maximum_amount = DEFAULT WHERE id = $1`, [inst.id]);
    }
  });
});

describe('Issue 9 finding 14: identifiers that differ only by an invisible character', () => {
  test('"abc\\u200b" beside "abc" is refused as an invisible formatting character', async () => {
    const first = await createUser(newPatron({ identifiers: [{ type: 'BARCODE', value: 'zw-abc' }] }));
    expect(first.errors).toBeUndefined();
    const error = await refusedUnchanged('input.identifiers[0].value', () =>
      createUser(newPatron({ identifiers: [{ type: 'BARCODE', value: 'zw-abc\u200b' }] })));
    expect(error.message).toMatch(/invisible formatting character \(U\+200B\)/);
  });

  test('bidi controls and a byte-order mark inside a primary identifier are refused', async () => {
    for (const hidden of ['\u202e', '\ufeff', '\u2060']) {
      await refusedUnchanged('input.primaryIdentifier', () => createUser(newPatron({ primaryIdentifier: `id${hidden}x` })));
    }
  });

  test('a decomposed "é" identifier is stored composed (NFC), trimmed', async () => {
    const decomposed = ' caf\u0065\u0301-1 ';
    const res = await createUser(newPatron({ identifiers: [{ type: 'BARCODE', value: decomposed }] }));
    expect(res.errors).toBeUndefined();
    expect(res.data.createUser.user.identifiers[0].value).toBe('caf\u00e9-1');
    const [row] = await db().query(`SELECT value FROM user_identifier WHERE value = $1`, ['caf\u00e9-1']);
    expect(row.value).toBe('caf\u00e9-1');
    const found = await app.gql(`query($v: String!) { userByIdentifier(value: $v) { id } }`, { v: 'cafe\u0301-1' }, tokens.um);
    expect(found.data.userByIdentifier.id).toBe(res.data.createUser.user.id);
  });
});

test('An unauthenticated caller gets UNAUTHENTICATED, not an input error: the policy is checked first', async () => {
  const res = await app.gql(`query($v: String!) { userByIdentifier(value: $v) { id } }`, { v: NUL });
  expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
});

test('Every String, ID, EmailAddress, Date, DateTime, Decimal and list input of the schema states its limit in its description (introspection)', () => {
  const schema = buildSchema();
  const limited = (type: GraphQLInputType) => isListType(isNonNullType(type) ? type.ofType : type)
    || (isScalarType(getNamedType(type)) && ['String', 'ID', 'EmailAddress', 'Date', 'DateTime', 'Decimal'].includes(getNamedType(type).name));
  const missing: string[] = [];
  const check = (where: string, type: GraphQLInputType, description: string | null | undefined) => {
    if (limited(type) && !/(At most \d|From 1850-01-01 to 9999-12-31)/.test(description ?? '')) missing.push(where);
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if ('getFields' in type) {
      for (const field of Object.values(type.getFields())) {
        if (isInputObjectType(type)) check(`${type.name}.${field.name}`, (field as { type: GraphQLInputType }).type, field.description);
        for (const arg of (field as { args?: readonly { name: string; type: GraphQLInputType; description?: string | null }[] }).args ?? []) {
          check(`${type.name}.${field.name}(${arg.name})`, arg.type, arg.description);
        }
      }
    }
  }
  expect(missing).toEqual([]);
  const note = schema.getType('NoteInput');
  expect(isInputObjectType(note) && note.getFields().text.description).toMatch(/At most 4000 characters, line breaks allowed/);
});
