import { createInstitution, createPerson, InstitutionFixture, loginOperators, PASSWORD, PersonSpec, userTableCounts } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';

/**
 * Specification of the identifier mutations (issue 4): additional identifiers
 * (R2.2, R2.4), the primary identifier (R2.1, R9.1 "user name"), external
 * items (R3.3), who may change them (R4.2, R4.5), over HTTP against the real
 * server and database.
 */

let app: TestApp;
let inst: InstitutionFixture;
let other: InstitutionFixture;
let manager: string;
let circ: string;
let fso: string;
const db = () => app.db.dataSource;

const ADD = `mutation($u: ID!, $in: IdentifierInput!) { addIdentifier(userId: $u, input: $in) { id type value note external } }`;
const UPDATE = `mutation($id: ID!, $in: IdentifierInput!) { updateIdentifier(id: $id, input: $in) { id type value note external } }`;
const REMOVE = `mutation($id: ID!) { removeIdentifier(id: $id) { id identifiers { type value } } }`;
const RENAME = `mutation($u: ID!, $v: String!) { changePrimaryIdentifier(userId: $u, value: $v) { id primaryIdentifier updatedBy } }`;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  other = await createInstitution(db(), 'OTHER');
  ({ um_ids: manager, circ_ids: circ, fso_ids: fso } = await loginOperators(app, inst, {
    um_ids: ['USER_MANAGER', 'INSTITUTION'],
    circ_ids: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
    fso_ids: ['FULFILLMENT_SERVICES_OPERATOR', 'MAIN'],
  }));
});
afterAll(() => app.close());

const patron = (spec: PersonSpec = {}) => createPerson(db(), inst, { recordType: 'PUBLIC', withPassword: false, ...spec });
const identifiersOf = (userId: string) =>
  db().query(`SELECT id_type, value, note, is_external FROM user_identifier WHERE user_id = $1 ORDER BY value`, [userId]);
const identifierId = async (value: string): Promise<string> => (await db().query(`SELECT id FROM user_identifier WHERE value = $1`, [value]))[0].id;
const primaryOf = async (userId: string): Promise<string> => (await db().query(`SELECT primary_identifier FROM app_user WHERE id = $1`, [userId]))[0].primary_identifier;
const historyOf = (userId: string) => db().query(`SELECT field, old_value, new_value, changed_by FROM history_entry WHERE user_id = $1 ORDER BY id`, [userId]);
const eventsOf = (userId: string) => db().query(`SELECT event_type, payload, actor FROM event_outbox WHERE aggregate_id = $1 ORDER BY id`, [userId]);

/** Sends a request that must be refused; proves it wrote nothing and returns its one error. */
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

describe('addIdentifier', () => {
  test('R2.2 adds an internal identifier of a configured type, value and note trimmed', async () => {
    const userId = await patron();
    const data = ok(await app.gql(ADD, { u: userId, in: { type: 'BARCODE', value: '  B1000  ', note: ' replacement card ' } }, manager));
    expect(data.addIdentifier).toMatchObject({ type: 'BARCODE', value: 'B1000', note: 'replacement card', external: false });
    expect(await identifiersOf(userId)).toEqual([{ id_type: 'BARCODE', value: 'B1000', note: 'replacement card', is_external: false }]);
  });

  test('R2.2 an identifier type that is not configured is BAD_USER_INPUT naming input.type', async () => {
    const userId = await patron();
    const error = await refused(ADD, { u: userId, in: { type: 'SHOE_SIZE', value: 'B1001' } });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.type' });
  });

  test('R2.2 an empty value is BAD_USER_INPUT naming input.value', async () => {
    const userId = await patron();
    const error = await refused(ADD, { u: userId, in: { type: 'BARCODE', value: '   ' } });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.value' });
  });

  test("R2.2 another user's identifier value is CONFLICT naming the value and the field, and nothing changes", async () => {
    await patron({ identifiers: [['BARCODE', 'B2000']] });
    const userId = await patron();
    const error = await refused(ADD, { u: userId, in: { type: 'UNIV_ID', value: 'B2000' } });
    expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.value', value: 'B2000' });
    expect(error.message).toContain('B2000');
  });

  test("R2.2 the user's own other identifier value is CONFLICT", async () => {
    const userId = await patron({ identifiers: [['BARCODE', 'B2001']] });
    const error = await refused(ADD, { u: userId, in: { type: 'UNIV_ID', value: 'B2001' } });
    expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.value', value: 'B2001' });
  });

  test("R2.2 R2.4 a value equal to someone's primary identifier in another case is CONFLICT", async () => {
    await patron({ primaryIdentifier: 'jsmith_prim' });
    const userId = await patron();
    const error = await refused(ADD, { u: userId, in: { type: 'BARCODE', value: 'JSmith_Prim' } });
    expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.value', value: 'JSmith_Prim' });
  });

  test("R2.2 a value equal to the user's own primary identifier is CONFLICT", async () => {
    const userId = await patron({ primaryIdentifier: 'own_prim' });
    const error = await refused(ADD, { u: userId, in: { type: 'BARCODE', value: 'OWN_PRIM' } });
    expect(error.extensions).toMatchObject({ code: 'CONFLICT', value: 'OWN_PRIM' });
  });

  test('Issue 9 finding 14: a conflict names the identifier type and value, whose it is, and as what it is held', async () => {
    await patron({ primaryIdentifier: 'typed_other', identifiers: [['BARCODE', 'T-2100']] });
    const userId = await patron({ primaryIdentifier: 'typed_self', identifiers: [['BARCODE', 'T-2101']] });
    const cases: [Record<string, string>, string][] = [
      [{ type: 'BARCODE', value: 'T-2100' }, 'Identifier BARCODE T-2100 already belongs to another user'],
      [{ type: 'UNIV_ID', value: 'T-2100' }, 'Identifier UNIV_ID T-2100 already belongs to another user (as BARCODE)'],
      [{ type: 'UNIV_ID', value: 'T-2101' }, 'Identifier UNIV_ID T-2101 already belongs to this user (as BARCODE)'],
      [{ type: 'BARCODE', value: 'Typed_Other' }, 'Identifier BARCODE Typed_Other already belongs to another user (as primary identifier)'],
      [{ type: 'BARCODE', value: 'TYPED_SELF' }, 'Identifier BARCODE TYPED_SELF already belongs to this user (as primary identifier)'],
    ];
    for (const [input, message] of cases) {
      expect(await refused(ADD, { u: userId, in: input })).toMatchObject({ message, extensions: { code: 'CONFLICT', field: 'input.value', value: input.value } });
    }
  });

  test('R2.4 additional identifiers are case-sensitive: B1 and b1 may both exist', async () => {
    const first = await patron();
    const second = await patron();
    ok(await app.gql(ADD, { u: first, in: { type: 'BARCODE', value: 'Bcase1' } }, manager));
    ok(await app.gql(ADD, { u: second, in: { type: 'BARCODE', value: 'bcase1' } }, manager));
    ok(await app.gql(ADD, { u: second, in: { type: 'UNIV_ID', value: 'BCASE1' } }, manager));
    expect(await identifiersOf(second)).toEqual([
      { id_type: 'UNIV_ID', value: 'BCASE1', note: null, is_external: false },
      { id_type: 'BARCODE', value: 'bcase1', note: null, is_external: false },
    ]);
  });

  test('R2.2 of two concurrent addIdentifier calls with the same value exactly one succeeds', async () => {
    const users = [await patron(), await patron(), await patron()];
    const results = await Promise.all(users.map((u) => app.gql(ADD, { u, in: { type: 'BARCODE', value: 'RACE_ALL' } }, manager)));
    expect(results.filter((r) => r.data?.addIdentifier)).toHaveLength(1);
    for (const refusedCall of results.filter((r) => !r.data?.addIdentifier)) {
      expect(refusedCall.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', value: 'RACE_ALL' });
    }
    expect(await db().query(`SELECT count(*)::int AS n FROM user_identifier WHERE value = 'RACE_ALL'`)).toEqual([{ n: 1 }]);
  });

  test('R2.2 the database refuses the duplicate when the service check could not see it (a competing insert not yet committed)', async () => {
    const holder = await patron();
    const userId = await patron();
    const competitor = db().createQueryRunner();
    await competitor.connect();
    await competitor.startTransaction();
    try {
      await competitor.query(`INSERT INTO user_identifier (institution_id, user_id, id_type, value) VALUES ($1, $2, 'BARCODE', 'RACE_DB')`, [inst.id, holder]);
      const pending = app.gql(ADD, { u: userId, in: { type: 'BARCODE', value: 'RACE_DB' } }, manager);
      // The service's own check ran and passed: its INSERT now waits for the competing transaction.
      await waitFor(async () => (await db().query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      ))[0].n > 0);
      await competitor.commitTransaction();
      const res = await pending;
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', value: 'RACE_DB' });
      // No input field: the database's constraint refused it, not the service's check.
      expect(res.errors?.[0].extensions?.field).toBeUndefined();
    } finally {
      if (competitor.isTransactionActive) await competitor.rollbackTransaction();
      await competitor.release();
    }
    expect(await identifiersOf(userId)).toEqual([]);
    expect(await historyOf(userId)).toEqual([]);
  });

  test('R1.1 a contact has no identifiers: BAD_USER_INPUT naming userId', async () => {
    const contactId = await createPerson(db(), inst, { recordType: 'CONTACT', withPassword: false });
    const error = await refused(ADD, { u: contactId, in: { type: 'BARCODE', value: 'B3000' } });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
  });

  test('R3.3 staff may add an internal identifier to an external user', async () => {
    const userId = await patron({ accountType: 'EXTERNAL' });
    const data = ok(await app.gql(ADD, { u: userId, in: { type: 'BARCODE', value: 'B3001' } }, manager));
    expect(data.addIdentifier.external).toBe(false);
  });

  test('R9.1 R11.3 adding an identifier writes one history entry and one IDENTIFIER_ADDED event, and touches updatedBy', async () => {
    const userId = await patron();
    const data = ok(await app.gql(ADD, { u: userId, in: { type: 'BARCODE', value: 'B3002', note: 'spare' } }, manager));
    expect(await historyOf(userId)).toEqual([{ field: 'identifiers', old_value: null, new_value: 'BARCODE:B3002 (spare)', changed_by: 'um_ids' }]);
    expect(await eventsOf(userId)).toEqual([{
      event_type: 'IDENTIFIER_ADDED', actor: 'um_ids',
      payload: { identifierId: data.addIdentifier.id, changes: [{ field: 'identifiers', oldValue: null, newValue: 'BARCODE:B3002 (spare)' }] },
    }]);
    expect((await db().query(`SELECT updated_by FROM app_user WHERE id = $1`, [userId]))[0].updated_by).toBe('um_ids');
  });

  test('a user of another institution is NOT_FOUND', async () => {
    const stranger = await createPerson(db(), other, { recordType: 'PUBLIC', withPassword: false });
    const error = await refused(ADD, { u: stranger, in: { type: 'BARCODE', value: 'B3003' } });
    expect(error.extensions?.code).toBe('NOT_FOUND');
  });

  test('a malformed user id is BAD_USER_INPUT naming userId', async () => {
    const error = await refused(ADD, { u: 'not-a-uuid', in: { type: 'BARCODE', value: 'B3004' } });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
  });
});

describe('updateIdentifier and removeIdentifier', () => {
  test('R2.2 updateIdentifier changes type, value and note, recorded with old and new value', async () => {
    const userId = await patron({ identifiers: [['BARCODE', 'B4000']] });
    const data = ok(await app.gql(UPDATE, { id: await identifierId('B4000'), in: { type: 'UNIV_ID', value: 'U4000', note: 'from registry' } }, manager));
    expect(data.updateIdentifier).toMatchObject({ type: 'UNIV_ID', value: 'U4000', note: 'from registry', external: false });
    expect(await historyOf(userId)).toEqual([{ field: 'identifiers', old_value: 'BARCODE:B4000', new_value: 'UNIV_ID:U4000 (from registry)', changed_by: 'um_ids' }]);
    expect((await eventsOf(userId)).map((e: { event_type: string }) => e.event_type)).toEqual(['IDENTIFIER_UPDATED']);
  });

  test('R2.2 keeping its own value while changing the note is no conflict', async () => {
    await patron({ identifiers: [['BARCODE', 'B4001']] });
    const data = ok(await app.gql(UPDATE, { id: await identifierId('B4001'), in: { type: 'BARCODE', value: 'B4001', note: 'checked' } }, manager));
    expect(data.updateIdentifier).toMatchObject({ value: 'B4001', note: 'checked' });
  });

  test("R2.2 updating to another user's value is CONFLICT naming the value, and nothing changes", async () => {
    await patron({ identifiers: [['BARCODE', 'B4002']] });
    await patron({ identifiers: [['BARCODE', 'B4003']] });
    const error = await refused(UPDATE, { id: await identifierId('B4003'), in: { type: 'BARCODE', value: 'B4002' } });
    expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.value', value: 'B4002' });
  });

  test("Issue 9 finding 14: updating to a value held elsewhere names the type and value", async () => {
    await patron({ identifiers: [['BARCODE', 'T-4100']] });
    await patron({ identifiers: [['UNIV_ID', 'T-4101']] });
    const error = await refused(UPDATE, { id: await identifierId('T-4101'), in: { type: 'UNIV_ID', value: 'T-4100' } });
    expect(error.message).toBe('Identifier UNIV_ID T-4100 already belongs to another user (as BARCODE)');
  });

  test('R2.2 removeIdentifier removes it and returns the user, recorded in history and as an event', async () => {
    const userId = await patron({ identifiers: [['BARCODE', 'B4004'], ['UNIV_ID', 'U4004']] });
    const data = ok(await app.gql(REMOVE, { id: await identifierId('B4004') }, manager));
    expect(data.removeIdentifier).toEqual({ id: userId, identifiers: [{ type: 'UNIV_ID', value: 'U4004' }] });
    expect(await historyOf(userId)).toEqual([{ field: 'identifiers', old_value: 'BARCODE:B4004', new_value: null, changed_by: 'um_ids' }]);
    expect((await eventsOf(userId)).map((e: { event_type: string }) => e.event_type)).toEqual(['IDENTIFIER_REMOVED']);
  });

  test('R2.2 a removed value is free for another user', async () => {
    await patron({ identifiers: [['BARCODE', 'B4005']] });
    ok(await app.gql(REMOVE, { id: await identifierId('B4005') }, manager));
    const next = await patron();
    ok(await app.gql(ADD, { u: next, in: { type: 'BARCODE', value: 'B4005' } }, manager));
  });

  test('R3.3 an external identifier cannot be edited: BAD_USER_INPUT naming it', async () => {
    await patron({ accountType: 'EXTERNAL', identifiers: [['UNIV_ID', 'SIS4006']] });
    await db().query(`UPDATE user_identifier SET is_external = true WHERE value = 'SIS4006'`);
    const error = await refused(UPDATE, { id: await identifierId('SIS4006'), in: { type: 'UNIV_ID', value: 'SIS4006X' } });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    expect(error.message).toContain('UNIV_ID:SIS4006');
  });

  test('R3.3 an external identifier cannot be removed', async () => {
    const userId = await patron({ accountType: 'EXTERNAL', identifiers: [['UNIV_ID', 'SIS4007']] });
    await db().query(`UPDATE user_identifier SET is_external = true WHERE value = 'SIS4007'`);
    const error = await refused(REMOVE, { id: await identifierId('SIS4007') });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    expect(await identifiersOf(userId)).toHaveLength(1);
  });

  test('an identifier of another institution is NOT_FOUND', async () => {
    await createPerson(db(), other, { recordType: 'PUBLIC', withPassword: false, identifiers: [['BARCODE', 'B4008']] });
    const id = await identifierId('B4008');
    expect((await refused(UPDATE, { id, in: { type: 'BARCODE', value: 'B4008X' } })).extensions?.code).toBe('NOT_FOUND');
    expect((await refused(REMOVE, { id })).extensions?.code).toBe('NOT_FOUND');
  });

  test('an unknown identifier id is NOT_FOUND', async () => {
    const error = await refused(REMOVE, { id: '00000000-0000-4000-8000-000000000000' });
    expect(error.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('who may change identifiers', () => {
  test("R4.2 a circulation desk operator may add a patron's identifier", async () => {
    const userId = await patron();
    ok(await app.gql(ADD, { u: userId, in: { type: 'BARCODE', value: 'B5000' } }, circ));
  });

  test("R4.2 a circulation desk operator may not change a staff user's identifiers: FORBIDDEN", async () => {
    const staffId = await createPerson(db(), inst, { recordType: 'STAFF', withPassword: false, identifiers: [['BARCODE', 'B5001']] });
    expect((await refused(ADD, { u: staffId, in: { type: 'BARCODE', value: 'B5002' } }, circ)).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(REMOVE, { id: await identifierId('B5001') }, circ)).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(RENAME, { u: staffId, v: 'renamed_staff' }, circ)).extensions?.code).toBe('FORBIDDEN');
  });

  test('R4.2 a Fulfillment Services Operator may not edit identifiers: FORBIDDEN', async () => {
    const userId = await patron();
    expect((await refused(ADD, { u: userId, in: { type: 'BARCODE', value: 'B5003' } }, fso)).extensions?.code).toBe('FORBIDDEN');
  });

  test('R4.5 a protected account is refused to everyone', async () => {
    const vendor = await createPerson(db(), inst, { primaryIdentifier: 'exl_ids_vendor', withPassword: false, identifiers: [['BARCODE', 'B5004']] });
    expect((await refused(ADD, { u: vendor, in: { type: 'BARCODE', value: 'B5005' } })).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(UPDATE, { id: await identifierId('B5004'), in: { type: 'BARCODE', value: 'B5006' } })).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(REMOVE, { id: await identifierId('B5004') })).extensions?.code).toBe('FORBIDDEN');
    expect((await refused(RENAME, { u: vendor, v: 'someone_else' })).extensions?.code).toBe('FORBIDDEN');
  });
});

describe('changePrimaryIdentifier', () => {
  test('R2.1 renames the user, recorded as primaryIdentifier with one PRIMARY_IDENTIFIER_CHANGED event', async () => {
    const userId = await patron({ primaryIdentifier: 'before_rename' });
    const data = ok(await app.gql(RENAME, { u: userId, v: '  after_rename ' }, manager));
    expect(data.changePrimaryIdentifier).toEqual({ id: userId, primaryIdentifier: 'after_rename', updatedBy: 'um_ids' });
    expect(await historyOf(userId)).toEqual([{ field: 'primaryIdentifier', old_value: 'before_rename', new_value: 'after_rename', changed_by: 'um_ids' }]);
    expect(await eventsOf(userId)).toEqual([{
      event_type: 'PRIMARY_IDENTIFIER_CHANGED', actor: 'um_ids',
      payload: { changes: [{ field: 'primaryIdentifier', oldValue: 'before_rename', newValue: 'after_rename' }] },
    }]);
  });

  test('R2.1 the old primary identifier is free afterwards', async () => {
    const first = await patron({ primaryIdentifier: 'freed_value' });
    ok(await app.gql(RENAME, { u: first, v: 'freed_value_new' }, manager));
    const second = await patron({ primaryIdentifier: 'wants_freed' });
    ok(await app.gql(RENAME, { u: second, v: 'FREED_VALUE' }, manager));
    expect(await primaryOf(second)).toBe('FREED_VALUE');
  });

  test("R2.4 another user's primary identifier in a different case is CONFLICT naming the value, and nothing changes", async () => {
    await patron({ primaryIdentifier: 'taken_prim' });
    const userId = await patron({ primaryIdentifier: 'renamer_1' });
    const error = await refused(RENAME, { u: userId, v: 'TAKEN_Prim' });
    expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'value', value: 'TAKEN_Prim' });
    expect(await primaryOf(userId)).toBe('renamer_1');
  });

  test("R2.2 an additional identifier (the user's own or another's, in any case) cannot become a primary identifier", async () => {
    const userId = await patron({ primaryIdentifier: 'renamer_2', identifiers: [['BARCODE', 'Own6000']] });
    await patron({ identifiers: [['BARCODE', 'Their6000']] });
    expect((await refused(RENAME, { u: userId, v: 'own6000' })).extensions).toMatchObject({ code: 'CONFLICT', value: 'own6000' });
    expect((await refused(RENAME, { u: userId, v: 'Their6000' })).extensions).toMatchObject({ code: 'CONFLICT', value: 'Their6000' });
  });

  test('Issue 9 finding 14: a refused primary identifier names what it is and whose the value is', async () => {
    await patron({ primaryIdentifier: 'prim_named' });
    const userId = await patron({ primaryIdentifier: 'renamer_named', identifiers: [['UNIV_ID', 'Own-7000']] });
    expect((await refused(RENAME, { u: userId, v: 'PRIM_NAMED' })).message).toBe('Primary identifier PRIM_NAMED already belongs to another user');
    expect((await refused(RENAME, { u: userId, v: 'own-7000' })).message).toBe('Primary identifier own-7000 already belongs to this user (as UNIV_ID)');
  });

  test('R2.4 changing only the case of the own primary identifier is allowed', async () => {
    const userId = await patron({ primaryIdentifier: 'case_only' });
    ok(await app.gql(RENAME, { u: userId, v: 'Case_Only' }, manager));
    expect(await primaryOf(userId)).toBe('Case_Only');
  });

  test("R2.1 the institution's primary identifier format applies: BAD_USER_INPUT naming value", async () => {
    const userId = await patron({ primaryIdentifier: 'format_user' });
    await db().query(`UPDATE institution SET primary_identifier_regex = '^[a-z_]+$' WHERE id = $1`, [inst.id]);
    try {
      const error = await refused(RENAME, { u: userId, v: 'Has Spaces 1' });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'value' });
    } finally {
      await db().query(`UPDATE institution SET primary_identifier_regex = NULL WHERE id = $1`, [inst.id]);
    }
  });

  test('R2.1 an empty primary identifier is BAD_USER_INPUT naming value', async () => {
    const userId = await patron();
    expect((await refused(RENAME, { u: userId, v: '  ' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'value' });
  });

  test("R3.3 the SIS owns an external user's primary identifier: BAD_USER_INPUT naming value", async () => {
    const userId = await patron({ accountType: 'EXTERNAL', primaryIdentifier: 'sis_owned' });
    const error = await refused(RENAME, { u: userId, v: 'not_from_sis' });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'value' });
  });

  test('R1.1 a contact has no primary identifier: BAD_USER_INPUT naming userId', async () => {
    const contactId = await createPerson(db(), inst, { recordType: 'CONTACT', withPassword: false });
    expect((await refused(RENAME, { u: contactId, v: 'contact_name' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
  });

  test('R4.5 a user cannot be renamed into a protected vendor account name', async () => {
    const userId = await patron();
    expect((await refused(RENAME, { u: userId, v: 'exl_impersonator' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'value' });
  });

  test('R1.4 a staff user logs in with the new primary identifier and the same password', async () => {
    const staffId = await createPerson(db(), inst, { primaryIdentifier: 'login_before', roles: [['USER_MANAGER', 'INSTITUTION']] });
    ok(await app.gql(RENAME, { u: staffId, v: 'login_after' }, manager));
    await expect(app.login('login_after', PASSWORD)).resolves.toEqual(expect.any(String));
  });

  test('a user of another institution is NOT_FOUND', async () => {
    const stranger = await createPerson(db(), other, { recordType: 'PUBLIC', withPassword: false });
    expect((await refused(RENAME, { u: stranger, v: 'stolen_name' })).extensions?.code).toBe('NOT_FOUND');
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
