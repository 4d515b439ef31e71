import { createInstitution, createPerson, InstitutionFixture, PASSWORD, PersonSpec, userTableCounts } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';

/**
 * Specification of the contact information mutations (issue 4): emails,
 * addresses and phones (R1.7), external items (R3.3), who may change them
 * (R4.2, R4.5) and their history (R9.1), over HTTP against the real server.
 * The three kinds share one implementation; the table below runs the common
 * behaviour for each of them.
 */

let app: TestApp;
let inst: InstitutionFixture;
let other: InstitutionFixture;
let manager: string;
let circ: string;
const db = () => app.db.dataSource;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  other = await createInstitution(db(), 'OTHER', { emailRequired: false });
  await createPerson(db(), inst, { primaryIdentifier: 'um_contacts', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await createPerson(db(), inst, { primaryIdentifier: 'circ_contacts', roles: [['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']] });
  await createPerson(db(), other, { primaryIdentifier: 'um_other', roles: [['USER_MANAGER', 'INSTITUTION']] });
  manager = await app.login('um_contacts', PASSWORD);
  circ = await app.login('circ_contacts', PASSWORD);
});
afterAll(() => app.close());

interface Kind {
  name: 'Email' | 'Address' | 'Phone';
  /** How test names call one item. */
  one: string;
  table: string;
  historyField: string;
  inputType: string;
  fields: string;
  /** A valid input whose main value depends on `n`. */
  input(n: number, extra?: Record<string, unknown>): Record<string, unknown>;
  /** What history shows for `input(n)` (not preferred, no dates). */
  text(n: number): string;
  /** An SQL insert of an item for `$1` institution, `$2` user, `$3` n, `$4` preferred, `$5` external. */
  insertSql: string;
}

const KINDS: Kind[] = [
  {
    name: 'Email', one: 'an email', table: 'user_email', historyField: 'emails', inputType: 'EmailInput',
    fields: 'id address type description preferred startDate endDate external',
    input: (n, extra = {}) => ({ address: `person${n}@example.edu`, type: 'PERSONAL', ...extra }),
    text: (n) => `PERSONAL:person${n}@example.edu`,
    insertSql: `INSERT INTO user_email (institution_id, user_id, address, email_type, is_preferred, is_external)
                VALUES ($1, $2, 'person' || $3 || '@example.edu', 'PERSONAL', $4, $5) RETURNING id`,
  },
  {
    name: 'Address', one: 'an address', table: 'user_address', historyField: 'addresses', inputType: 'AddressInput',
    fields: 'id type line1 line2 city postalCode country preferred startDate endDate external',
    input: (n, extra = {}) => ({ type: 'HOME', line1: `${n} Main Street`, city: 'Springfield', postalCode: '12345', ...extra }),
    text: (n) => `HOME:${n} Main Street, Springfield, 12345`,
    insertSql: `INSERT INTO user_address (institution_id, user_id, address_type, line1, city, postal_code, is_preferred, is_external)
                VALUES ($1, $2, 'HOME', $3 || ' Main Street', 'Springfield', '12345', $4, $5) RETURNING id`,
  },
  {
    name: 'Phone', one: 'a phone', table: 'user_phone', historyField: 'phones', inputType: 'PhoneInput',
    fields: 'id number type preferred startDate endDate external',
    input: (n, extra = {}) => ({ number: `+1 555 ${String(n).padStart(4, '0')}`, type: 'MOBILE', ...extra }),
    text: (n) => `MOBILE:+1 555 ${String(n).padStart(4, '0')}`,
    insertSql: `INSERT INTO user_phone (institution_id, user_id, phone_number, phone_type, is_preferred, is_external)
                VALUES ($1, $2, '+1 555 ' || lpad($3, 4, '0'), 'MOBILE', $4, $5) RETURNING id`,
  },
];

const add = (k: Kind) => `mutation($u: ID!, $in: ${k.inputType}!) { add${k.name}(userId: $u, input: $in) { ${k.fields} } }`;
const update = (k: Kind) => `mutation($id: ID!, $in: ${k.inputType}!) { update${k.name}(id: $id, input: $in) { ${k.fields} } }`;
const remove = (k: Kind) => `mutation($id: ID!) { remove${k.name}(id: $id) { id } }`;

const patron = (spec: PersonSpec = {}) => createPerson(db(), inst, { recordType: 'PUBLIC', withPassword: false, ...spec });
/** Inserts an item directly (as the SIS or createUser would have); returns its id. */
const seedItem = async (k: Kind, userId: string, n: number, opts: { preferred?: boolean; external?: boolean; institution?: InstitutionFixture } = {}): Promise<string> =>
  (await db().query(k.insertSql, [(opts.institution ?? inst).id, userId, String(n), opts.preferred ?? false, opts.external ?? false]))[0].id;
const preferredOf = (k: Kind, userId: string) => db().query(`SELECT id FROM ${k.table} WHERE user_id = $1 AND is_preferred`, [userId]);
const countOf = async (k: Kind, userId: string): Promise<number> => (await db().query(`SELECT count(*)::int AS n FROM ${k.table} WHERE user_id = $1`, [userId]))[0].n;
const historyOf = (userId: string) => db().query(`SELECT field, old_value, new_value, changed_by FROM history_entry WHERE user_id = $1 ORDER BY id`, [userId]);
const eventsOf = (userId: string) => db().query(`SELECT event_type, payload FROM event_outbox WHERE aggregate_id = $1 ORDER BY id`, [userId]);

async function refused(query: string, variables: Record<string, unknown>, token = manager) {
  const before = await userTableCounts(db());
  const res = await app.gql(query, variables, token);
  expect(res.data ?? null).toBeNull();
  expect(res.errors).toHaveLength(1);
  expect(await userTableCounts(db())).toEqual(before);
  return res.errors![0];
}

function ok<T = any>(res: GraphQLResponse): T {
  expect(res.errors).toBeUndefined();
  return res.data;
}

let serial = 0;
const next = () => ++serial;

describe.each(KINDS)('$name', (k) => {
  test(`R1.7 add${k.name} adds an internal item; the user's first one becomes preferred`, async () => {
    const userId = await patron();
    const n = next();
    const item = ok(await app.gql(add(k), { u: userId, in: k.input(n) }, manager))[`add${k.name}`];
    expect(item).toMatchObject({ preferred: true, external: false });
    expect(await preferredOf(k, userId)).toEqual([{ id: item.id }]);
  });

  test(`R1.7 add${k.name} with preferred: true makes it the only preferred one`, async () => {
    const userId = await patron();
    const old = await seedItem(k, userId, next(), { preferred: true });
    const item = ok(await app.gql(add(k), { u: userId, in: k.input(next(), { preferred: true }) }, manager))[`add${k.name}`];
    expect(await preferredOf(k, userId)).toEqual([{ id: item.id }]);
    expect((await db().query(`SELECT is_preferred FROM ${k.table} WHERE id = $1`, [old]))[0].is_preferred).toBe(false);
  });

  test(`R1.7 add${k.name} without preferred keeps the current preferred one`, async () => {
    const userId = await patron();
    const old = await seedItem(k, userId, next(), { preferred: true });
    const item = ok(await app.gql(add(k), { u: userId, in: k.input(next()) }, manager))[`add${k.name}`];
    expect(item.preferred).toBe(false);
    expect(await preferredOf(k, userId)).toEqual([{ id: old }]);
  });

  test(`R1.7 update${k.name} with preferred: true switches the preferred item, recording both items`, async () => {
    const userId = await patron();
    const [a, b] = [next(), next()];
    await seedItem(k, userId, a, { preferred: true });
    const second = await seedItem(k, userId, b);
    ok(await app.gql(update(k), { id: second, in: k.input(b, { preferred: true }) }, manager));
    expect(await preferredOf(k, userId)).toEqual([{ id: second }]);
    expect(await historyOf(userId)).toEqual([
      { field: k.historyField, old_value: `${k.text(a)} (preferred)`, new_value: k.text(a), changed_by: 'um_contacts' },
      { field: k.historyField, old_value: k.text(b), new_value: `${k.text(b)} (preferred)`, changed_by: 'um_contacts' },
    ]);
    expect(await eventsOf(userId)).toEqual([{ event_type: 'CONTACT_UPDATED', payload: expect.objectContaining({ kind: k.name.toLowerCase(), itemId: second }) }]);
  });

  test(`R1.7 update${k.name} without preferred leaves the preferred item preferred`, async () => {
    const userId = await patron();
    const id = await seedItem(k, userId, next(), { preferred: true });
    const item = ok(await app.gql(update(k), { id, in: k.input(next()) }, manager))[`update${k.name}`];
    expect(item.preferred).toBe(true);
  });

  test(`R1.7 remove${k.name} of the preferred item makes the first remaining one preferred`, async () => {
    const userId = await patron();
    const preferred = await seedItem(k, userId, next(), { preferred: true });
    const rest = [await seedItem(k, userId, next()), await seedItem(k, userId, next())].sort();
    ok(await app.gql(remove(k), { id: preferred }, manager));
    expect(await preferredOf(k, userId)).toEqual([{ id: rest[0] }]);
    expect(await countOf(k, userId)).toBe(2);
  });

  test(`R1.7 ${k.one} whose start date is after its end date is BAD_USER_INPUT naming input.endDate`, async () => {
    const userId = await patron();
    const error = await refused(add(k), { u: userId, in: k.input(next(), { startDate: '2026-06-01', endDate: '2026-05-31' }) });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.endDate' });
  });

  test(`R1.7 a type reserved for vendor contacts is refused on a patron's ${k.name.toLowerCase()}, naming input.type`, async () => {
    const userId = await patron();
    const error = await refused(add(k), { u: userId, in: k.input(next(), { type: 'CLAIM' }) });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.type' });
  });

  test(`R1.7 a vendor contact may have ${k.one} of a contact-only type`, async () => {
    const contactId = await createPerson(db(), inst, { recordType: 'CONTACT', withPassword: false });
    const item = ok(await app.gql(add(k), { u: contactId, in: k.input(next(), { type: 'CLAIM' }) }, manager))[`add${k.name}`];
    expect(item.type).toBe('CLAIM');
  });

  test(`R3.3 an external ${k.name.toLowerCase()} cannot be edited: BAD_USER_INPUT naming it`, async () => {
    const userId = await patron({ accountType: 'EXTERNAL' });
    const n = next();
    const id = await seedItem(k, userId, n, { preferred: true, external: true });
    const error = await refused(update(k), { id, in: k.input(next()) });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    expect(error.message).toContain(k.text(n));
  });

  test(`R3.3 an external ${k.name.toLowerCase()} cannot be removed`, async () => {
    const userId = await patron({ accountType: 'EXTERNAL' });
    const id = await seedItem(k, userId, next(), { external: true });
    await seedItem(k, userId, next());
    const error = await refused(remove(k), { id });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });

  test(`R3.3 an internal ${k.name.toLowerCase()} can never be turned external: the input has no external flag`, async () => {
    const userId = await patron();
    const id = await seedItem(k, userId, next(), { preferred: true });
    const error = await refused(update(k), { id, in: k.input(next(), { external: true }) });
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await db().query(`SELECT is_external FROM ${k.table} WHERE id = $1`, [id]))[0].is_external).toBe(false);
  });

  test(`R3.3 staff may add an internal ${k.name.toLowerCase()} to an external user`, async () => {
    const userId = await patron({ accountType: 'EXTERNAL' });
    await seedItem(k, userId, next(), { preferred: true, external: true });
    const item = ok(await app.gql(add(k), { u: userId, in: k.input(next()) }, manager))[`add${k.name}`];
    expect(item.external).toBe(false);
  });

  test(`R9.1 R11.3 add${k.name}, update${k.name} and remove${k.name} each record the item's old and new text and one event`, async () => {
    const userId = await patron();
    const [a, b] = [next(), next()];
    const { id } = ok(await app.gql(add(k), { u: userId, in: k.input(a) }, manager))[`add${k.name}`];
    await seedItem(k, userId, next());
    ok(await app.gql(update(k), { id, in: k.input(b) }, manager));
    ok(await app.gql(remove(k), { id }, manager));
    const history = await historyOf(userId);
    expect(history.slice(0, 3)).toEqual([
      { field: k.historyField, old_value: null, new_value: `${k.text(a)} (preferred)`, changed_by: 'um_contacts' },
      { field: k.historyField, old_value: `${k.text(a)} (preferred)`, new_value: `${k.text(b)} (preferred)`, changed_by: 'um_contacts' },
      { field: k.historyField, old_value: `${k.text(b)} (preferred)`, new_value: null, changed_by: 'um_contacts' },
    ]);
    const events = await eventsOf(userId);
    expect(events.map((e: { event_type: string }) => e.event_type)).toEqual(['CONTACT_ADDED', 'CONTACT_UPDATED', 'CONTACT_REMOVED']);
    expect(events.every((e: { payload: { kind: string; itemId: string } }) => e.payload.kind === k.name.toLowerCase() && e.payload.itemId === id)).toBe(true);
  });

  test(`an item of another institution is NOT_FOUND for update${k.name} and remove${k.name}`, async () => {
    const stranger = await createPerson(db(), other, { recordType: 'PUBLIC', withPassword: false });
    const id = await seedItem(k, stranger, next(), { institution: other });
    expect((await refused(update(k), { id, in: k.input(next()) })).extensions?.code).toBe('NOT_FOUND');
    expect((await refused(remove(k), { id })).extensions?.code).toBe('NOT_FOUND');
  });

  test(`a user of another institution is NOT_FOUND for add${k.name}`, async () => {
    const stranger = await createPerson(db(), other, { recordType: 'PUBLIC', withPassword: false });
    expect((await refused(add(k), { u: stranger, in: k.input(next()) })).extensions?.code).toBe('NOT_FOUND');
  });

  test(`R4.2 a circulation desk operator may change a patron's ${k.name.toLowerCase()} but not a staff user's (FORBIDDEN)`, async () => {
    const patronId = await patron();
    ok(await app.gql(add(k), { u: patronId, in: k.input(next()) }, circ));
    const staffId = await createPerson(db(), inst, { recordType: 'STAFF', withPassword: false });
    const staffItem = await seedItem(k, staffId, next(), { preferred: true });
    expect((await refused(add(k), { u: staffId, in: k.input(next()) }, circ)).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(update(k), { id: staffItem, in: k.input(next()) }, circ)).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(remove(k), { id: staffItem }, circ)).extensions?.code).toBe('FORBIDDEN');
  });

  test(`R4.5 a protected account's ${k.name.toLowerCase()} cannot be added, changed or removed`, async () => {
    const vendor = await createPerson(db(), inst, { primaryIdentifier: `rialto_${k.name.toLowerCase()}`, withPassword: false });
    const id = await seedItem(k, vendor, next(), { preferred: true });
    await seedItem(k, vendor, next());
    expect((await refused(add(k), { u: vendor, in: k.input(next()) })).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(update(k), { id, in: k.input(next()) })).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(remove(k), { id })).extensions?.code).toBe('FORBIDDEN');
  });
});

describe('rules of one kind', () => {
  const [EMAIL, ADDRESS, PHONE] = KINDS;

  test('R1.7 removing the last email is refused when the institution requires one, and nothing changes', async () => {
    const userId = await patron();
    const id = await seedItem(EMAIL, userId, next(), { preferred: true });
    const error = await refused(remove(EMAIL), { id });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    expect(await countOf(EMAIL, userId)).toBe(1);
  });

  test('R1.7 the last email may be removed when the institution does not require one', async () => {
    const userId = await createPerson(db(), other, { recordType: 'PUBLIC', withPassword: false });
    const id = await seedItem(EMAIL, userId, next(), { preferred: true, institution: other });
    ok(await app.gql(remove(EMAIL), { id }, await app.login('um_other', PASSWORD)));
    expect(await countOf(EMAIL, userId)).toBe(0);
  });

  test('R1.7 the last address and the last phone may always be removed', async () => {
    const userId = await patron();
    ok(await app.gql(remove(ADDRESS), { id: await seedItem(ADDRESS, userId, next(), { preferred: true }) }, manager));
    ok(await app.gql(remove(PHONE), { id: await seedItem(PHONE, userId, next(), { preferred: true }) }, manager));
  });

  test("R1.7 an email outside the institution's format is BAD_USER_INPUT naming input.address", async () => {
    const userId = await patron();
    await db().query(`UPDATE institution SET email_regex = '@example\\.edu$' WHERE id = $1`, [inst.id]);
    try {
      const error = await refused(add(EMAIL), { u: userId, in: { address: 'someone@elsewhere.com', type: 'PERSONAL' } });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.address' });
    } finally {
      await db().query(`UPDATE institution SET email_regex = NULL WHERE id = $1`, [inst.id]);
    }
  });

  test("R1.7 a phone number outside the institution's format is BAD_USER_INPUT naming input.number", async () => {
    const userId = await patron();
    const id = await seedItem(PHONE, userId, next(), { preferred: true });
    await db().query(`UPDATE institution SET phone_regex = '^\\+[0-9 ]+$' WHERE id = $1`, [inst.id]);
    try {
      expect((await refused(add(PHONE), { u: userId, in: { number: '555-CALL-ME', type: 'HOME' } })).extensions)
        .toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.number' });
      expect((await refused(update(PHONE), { id, in: { number: 'call me', type: 'HOME' } })).extensions)
        .toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.number' });
    } finally {
      await db().query(`UPDATE institution SET phone_regex = NULL WHERE id = $1`, [inst.id]);
    }
  });

  test("R1.7 a postal code outside the institution's format is BAD_USER_INPUT naming input.postalCode", async () => {
    const userId = await patron();
    await db().query(`UPDATE institution SET postal_code_regex = '^[0-9]{5}$' WHERE id = $1`, [inst.id]);
    try {
      const error = await refused(add(ADDRESS), { u: userId, in: { type: 'HOME', line1: '1 Elm St', postalCode: 'ABCDE' } });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.postalCode' });
    } finally {
      await db().query(`UPDATE institution SET postal_code_regex = NULL WHERE id = $1`, [inst.id]);
    }
  });

  test('R1.7 an address needs its first line: BAD_USER_INPUT naming input.line1', async () => {
    const userId = await patron();
    expect((await refused(add(ADDRESS), { u: userId, in: { type: 'HOME', line1: '  ' } })).extensions)
      .toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.line1' });
  });

  test('R9.1 an address is recorded with its lines joined, its dates and its note', async () => {
    const userId = await patron();
    ok(await app.gql(add(ADDRESS), { u: userId, in: {
      type: 'WORK', line1: '1 Library Way', line2: 'Room 4', city: 'Springfield', stateProvince: 'IL', postalCode: '62701', country: 'USA',
      note: 'term time', startDate: '2026-09-01', endDate: '2027-06-30',
    } }, manager));
    expect((await historyOf(userId))[0].new_value)
      .toBe('WORK:1 Library Way, Room 4, Springfield, IL, 62701, USA (preferred; 2026-09-01 to 2027-06-30; term time)');
  });

  test('the user lists its emails with the preferred one first after a switch', async () => {
    const userId = await patron();
    const [a, b] = [next(), next()];
    await seedItem(EMAIL, userId, a, { preferred: true });
    const second = await seedItem(EMAIL, userId, b);
    ok(await app.gql(update(EMAIL), { id: second, in: EMAIL.input(b, { preferred: true }) }, manager));
    const res = ok(await app.gql(`query($u: ID!) { user(id: $u) { emails { address preferred } } }`, { u: userId }, manager));
    expect(res.user.emails).toEqual([
      { address: `person${b}@example.edu`, preferred: true },
      { address: `person${a}@example.edu`, preferred: false },
    ]);
  });

  test("R3.3 an internal email added as preferred takes the flag from the SIS's email, whose content stays as it was", async () => {
    const userId = await patron({ accountType: 'EXTERNAL' });
    const n = next();
    const sisEmail = await seedItem(EMAIL, userId, n, { preferred: true, external: true });
    const added = ok(await app.gql(add(EMAIL), { u: userId, in: EMAIL.input(next(), { preferred: true }) }, manager)).addEmail;
    expect(await preferredOf(EMAIL, userId)).toEqual([{ id: added.id }]);
    expect(await db().query(`SELECT address, is_external FROM user_email WHERE id = $1`, [sisEmail]))
      .toEqual([{ address: `person${n}@example.edu`, is_external: true }]);
  });

  test('a malformed item id is BAD_USER_INPUT naming id', async () => {
    expect((await refused(remove(EMAIL), { id: 'nope' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });

  test("Issue 9 finding 14: an email the user holds already (in any case, external ones too) cannot be added again: CONFLICT naming input.address", async () => {
    const userId = await patron();
    const n = next();
    await seedItem(EMAIL, userId, n, { preferred: true, external: true });
    const error = await refused(add(EMAIL), { u: userId, in: { address: `Person${n}@Example.edu`, type: 'WORK' } });
    expect(error).toMatchObject({
      message: `Email Person${n}@Example.edu already belongs to this user`,
      extensions: { code: 'CONFLICT', field: 'input.address', value: `Person${n}@Example.edu` },
    });
    expect(await countOf(EMAIL, userId)).toBe(1);
  });

  test("Issue 9 finding 14: an email cannot be changed into another of the user's emails, but may keep its own address", async () => {
    const userId = await patron();
    const [first, second] = [next(), next()];
    await seedItem(EMAIL, userId, first, { preferred: true });
    const id = await seedItem(EMAIL, userId, second);
    const error = await refused(update(EMAIL), { id, in: EMAIL.input(first) });
    expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.address' });
    ok(await app.gql(update(EMAIL), { id, in: EMAIL.input(second, { type: 'WORK' }) }, manager));
  });

  test('R1.7 two users may share an email address', async () => {
    const n = next();
    await seedItem(EMAIL, await patron(), n, { preferred: true });
    ok(await app.gql(add(EMAIL), { u: await patron(), in: EMAIL.input(n) }, manager));
  });
});
