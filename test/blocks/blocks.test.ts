import { InstitutionFixture, PASSWORD, PersonSpec, createInstitution, createPatron, createPerson, loginOperators } from '../support/fixtures';
import { givenOwnedItem, OwnerCode, ownedItemState } from '../support/owned-items';
import { startTestApp, TestApp } from '../support/test-app';

let app: TestApp;
let inst: InstitutionFixture;
const tokens: Record<string, string> = {};

const ADD = `mutation($u: ID!, $in: BlockInput!) { addBlock(userId: $u, input: $in) {
  id type note expiresAt active external owner { institution library { code } } } }`;
const UPDATE = `mutation($id: ID!, $in: BlockInput!) { updateBlock(id: $id, input: $in) { id type note expiresAt active owner { institution library { code } } } }`;
const REMOVE = `mutation($id: ID!) { removeBlock(id: $id) { id hasActiveBlock blocks(activeOnly: false) { id } } }`;
const USER = `query($id: ID!) { user(id: $id) { hasActiveBlock blocks(activeOnly: false) { id active } } }`;

const db = () => app.db.dataSource;
const patron = (spec: PersonSpec = {}) => createPatron(db(), inst, spec);
const libraryId = (code: 'MAIN' | 'LAW') => inst.libraries[code].id;
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

const givenBlock = (userId: string, owner: OwnerCode, opts: { external?: boolean } = {}) =>
  givenOwnedItem(db(), inst, 'user_block', userId, owner, { block_type: 'GENERAL', created_by: 'test' }, opts);
/** Everything a refused request must leave as it was. */
const state = (userId: string) => ownedItemState(db(), 'user_block', 'block_type, note, expiry_date, owner_library_id', userId);

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await db().query(`INSERT INTO code_value (institution_id, kind, code, description) VALUES ($1, 'BLOCK_TYPE', 'OVERDUE', 'Overdue items')`, [inst.id]);
  Object.assign(tokens, await loginOperators(app, inst, {
    um: ['USER_MANAGER', 'INSTITUTION'],
    um_law: ['USER_MANAGER', 'LAW'],
    circ_main: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
    fso: ['FULFILLMENT_SERVICES_OPERATOR', 'INSTITUTION'],
  }));
});
afterAll(() => app.close());

test('R6.2 a User Manager blocks a patron with a type, note, expiry and owner, and the patron has an active block', async () => {
  const userId = await patron();
  const expiresAt = inDays(30);
  const res = await app.gql(ADD, { u: userId, in: { type: 'OVERDUE', note: ' Three books overdue ', expiresAt, ownerLibraryId: libraryId('LAW') } }, tokens.um);
  expect(res.data.addBlock).toMatchObject({
    type: 'OVERDUE', note: 'Three books overdue', expiresAt, active: true, external: false, owner: { institution: false, library: { code: 'LAW' } },
  });
  expect((await app.gql(USER, { id: userId }, tokens.um)).data.user.hasActiveBlock).toBe(true);
});

test('R6.2 a block without an expiry date is active and owned by the institution when no owner is given', async () => {
  const res = await app.gql(ADD, { u: await patron(), in: { type: 'GENERAL' } }, tokens.um);
  expect(res.data.addBlock).toMatchObject({ expiresAt: null, active: true, owner: { institution: true, library: null } });
});

test('R6.2 a block whose expiry date has passed is not active and hasActiveBlock turns false', async () => {
  const userId = await patron();
  const added = await app.gql(ADD, { u: userId, in: { type: 'GENERAL', expiresAt: inDays(10) } }, tokens.um);
  expect((await app.gql(USER, { id: userId }, tokens.um)).data.user.hasActiveBlock).toBe(true);
  const lifted = await app.gql(UPDATE, { id: added.data.addBlock.id, in: { type: 'GENERAL', expiresAt: inDays(-1) } }, tokens.um);
  expect(lifted.data.updateBlock.active).toBe(false);
  expect((await app.gql(USER, { id: userId }, tokens.um)).data.user).toEqual({ hasActiveBlock: false, blocks: [{ id: added.data.addBlock.id, active: false }] });
});

test('R1.1 R6.2 a contact record cannot be blocked: BAD_USER_INPUT naming userId, nothing written', async () => {
  const contactId = await createPerson(db(), inst, { recordType: 'CONTACT', withPassword: false });
  const before = await state(contactId);
  const res = await app.gql(ADD, { u: contactId, in: { type: 'GENERAL' } }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
  expect(await state(contactId)).toEqual(before);
});

test('R6.2 an unknown block type is BAD_USER_INPUT naming input.type and nothing is written', async () => {
  const userId = await patron();
  const before = await state(userId);
  const res = await app.gql(ADD, { u: userId, in: { type: 'NAUGHTY' } }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.type' });
  expect(await state(userId)).toEqual(before);
});

test('R6.2 updating a block to an unknown type is BAD_USER_INPUT naming input.type and the block is unchanged', async () => {
  const userId = await patron();
  const blockId = await givenBlock(userId, 'LAW');
  const before = await state(userId);
  const res = await app.gql(UPDATE, { id: blockId, in: { type: 'NAUGHTY', ownerLibraryId: libraryId('LAW') } }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.type' });
  expect(await state(userId)).toEqual(before);
});

test('R5.1 an owner that is not a library of the institution is BAD_USER_INPUT naming input.ownerLibraryId', async () => {
  const res = await app.gql(ADD, { u: await patron(), in: { type: 'GENERAL', ownerLibraryId: inst.libraries.MAIN.deskId } }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.ownerLibraryId' });
});

test('R5.3 an operator scoped to the Law library cannot add a block owned by the Main library (FORBIDDEN, nothing written)', async () => {
  const userId = await patron();
  const before = await state(userId);
  const res = await app.gql(ADD, { u: userId, in: { type: 'GENERAL', ownerLibraryId: libraryId('MAIN') } }, tokens.um_law);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await state(userId)).toEqual(before);
});

test('R5.3 a library-scoped operator may not create an institution-owned block: the institution owner is outside a library scope', async () => {
  const userId = await patron();
  const before = await state(userId);
  const res = await app.gql(ADD, { u: userId, in: { type: 'GENERAL' } }, tokens.um_law);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await state(userId)).toEqual(before);
});

test('R5.2 R5.3 an operator scoped to the Law library cannot update a block owned by the Main library: it is NOT_FOUND and unchanged', async () => {
  const userId = await patron();
  const blockId = await givenBlock(userId, 'MAIN');
  const before = await state(userId);
  const res = await app.gql(UPDATE, { id: blockId, in: { type: 'GENERAL', expiresAt: inDays(-1), ownerLibraryId: libraryId('LAW') } }, tokens.um_law);
  expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  expect(await state(userId)).toEqual(before);
});

test('R5.2 R5.3 an operator scoped to the Law library cannot remove a block owned by the Main library: it is NOT_FOUND and kept', async () => {
  const userId = await patron();
  const blockId = await givenBlock(userId, 'MAIN');
  const before = await state(userId);
  const res = await app.gql(REMOVE, { id: blockId }, tokens.um_law);
  expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  expect(await state(userId)).toEqual(before);
});

test('R5.3 an operator scoped to the Law library manages blocks owned by the Law library', async () => {
  const userId = await patron();
  const added = await app.gql(ADD, { u: userId, in: { type: 'GENERAL', ownerLibraryId: libraryId('LAW') } }, tokens.um_law);
  const updated = await app.gql(UPDATE, { id: added.data.addBlock.id, in: { type: 'OVERDUE', ownerLibraryId: libraryId('LAW') } }, tokens.um_law);
  expect(updated.data.updateBlock.type).toBe('OVERDUE');
  const removed = await app.gql(REMOVE, { id: added.data.addBlock.id }, tokens.um_law);
  expect(removed.data.removeBlock).toEqual({ id: userId, hasActiveBlock: false, blocks: [] });
});

test('R5.3 an institution-scoped operator adds, updates and removes blocks of any owner', async () => {
  const userId = await patron();
  const mainBlock = await givenBlock(userId, 'MAIN');
  const updated = await app.gql(UPDATE, { id: mainBlock, in: { type: 'OVERDUE', ownerLibraryId: libraryId('LAW') } }, tokens.um);
  expect(updated.data.updateBlock.owner.library.code).toBe('LAW');
  expect((await app.gql(REMOVE, { id: mainBlock }, tokens.um)).data.removeBlock.blocks).toEqual([]);
  expect((await app.gql(ADD, { u: userId, in: { type: 'GENERAL' } }, tokens.um)).data?.addBlock.owner.institution).toBe(true);
});

test('R5 with library independence off a library-scoped operator may block under any owner, and the owner is recorded', async () => {
  const open = await createInstitution(db(), 'OPEN_BLOCKS', { libraryIndependence: false });
  await createPerson(db(), open, { primaryIdentifier: 'open_law_b', roles: [['USER_MANAGER', 'LAW']] });
  const token = await app.login('open_law_b', PASSWORD);
  const userId = await createPerson(db(), open, { recordType: 'PUBLIC', withPassword: false });
  const res = await app.gql(ADD, { u: userId, in: { type: 'GENERAL', ownerLibraryId: open.libraries.MAIN.id } }, token);
  expect(res.data.addBlock.owner).toEqual({ institution: false, library: { code: 'MAIN' } });
  expect((await app.gql(ADD, { u: userId, in: { type: 'GENERAL' } }, token)).data?.addBlock.owner.institution).toBe(true);
});

test('R3.3 staff may block an external user with an internal block', async () => {
  const res = await app.gql(ADD, { u: await patron({ accountType: 'EXTERNAL' }), in: { type: 'GENERAL' } }, tokens.um);
  expect(res.data.addBlock.external).toBe(false);
});

test('R3.3 an external block cannot be edited (BAD_USER_INPUT naming id)', async () => {
  const userId = await patron({ accountType: 'EXTERNAL' });
  const blockId = await givenBlock(userId, null, { external: true });
  const before = await state(userId);
  const res = await app.gql(UPDATE, { id: blockId, in: { type: 'GENERAL', expiresAt: inDays(-1) } }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  expect(await state(userId)).toEqual(before);
});

test('R3.3 an external block cannot be removed (BAD_USER_INPUT naming id)', async () => {
  const userId = await patron({ accountType: 'EXTERNAL' });
  const blockId = await givenBlock(userId, null, { external: true });
  const before = await state(userId);
  const res = await app.gql(REMOVE, { id: blockId }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  expect(await state(userId)).toEqual(before);
});

test('R9.1 adding, updating and removing a block are recorded in history with the block’s owner', async () => {
  const userId = await patron();
  const expiresAt = '2031-01-15T00:00:00.000Z';
  const added = await app.gql(ADD, { u: userId, in: { type: 'GENERAL', ownerLibraryId: libraryId('MAIN') } }, tokens.um);
  await app.gql(UPDATE, { id: added.data.addBlock.id, in: { type: 'OVERDUE', note: 'late', expiresAt, ownerLibraryId: libraryId('MAIN') } }, tokens.um);
  await app.gql(REMOVE, { id: added.data.addBlock.id }, tokens.um);
  const history = await db().query(`SELECT field, old_value, new_value, owner_library_id, changed_by FROM history_entry WHERE user_id = $1 ORDER BY id`, [userId]);
  const owner = libraryId('MAIN');
  expect(history).toEqual([
    { field: 'blocks', old_value: null, new_value: 'GENERAL', owner_library_id: owner, changed_by: 'um' },
    { field: 'blocks', old_value: 'GENERAL', new_value: `OVERDUE until ${expiresAt}: late`, owner_library_id: owner, changed_by: 'um' },
    { field: 'blocks', old_value: `OVERDUE until ${expiresAt}: late`, new_value: null, owner_library_id: owner, changed_by: 'um' },
  ]);
});

test('R11.3 BLOCK_ADDED, BLOCK_UPDATED and BLOCK_REMOVED events carry the block and its owner', async () => {
  const userId = await patron();
  const added = await app.gql(ADD, { u: userId, in: { type: 'GENERAL', ownerLibraryId: libraryId('LAW') } }, tokens.um);
  const blockId = added.data.addBlock.id;
  await app.gql(UPDATE, { id: blockId, in: { type: 'OVERDUE', ownerLibraryId: libraryId('LAW') } }, tokens.um);
  await app.gql(REMOVE, { id: blockId }, tokens.um);
  const events = await db().query(`SELECT event_type, owner_library_id, payload->>'blockId' AS block_id FROM event_outbox WHERE aggregate_id = $1 ORDER BY id`, [userId]);
  expect(events).toEqual(['BLOCK_ADDED', 'BLOCK_UPDATED', 'BLOCK_REMOVED'].map((event_type) => ({ event_type, owner_library_id: libraryId('LAW'), block_id: blockId })));
});

test('R4.2 a circulation desk operator may block a patron', async () => {
  const userId = await patron();
  const res = await app.gql(ADD, { u: userId, in: { type: 'GENERAL', ownerLibraryId: libraryId('MAIN') } }, tokens.circ_main);
  expect(res.data?.addBlock.active).toBe(true);
});

test('R4.2 a circulation desk operator may not block a staff user (FORBIDDEN, nothing written)', async () => {
  const staffId = await createPerson(db(), inst, { recordType: 'STAFF', withPassword: false });
  const before = await state(staffId);
  const res = await app.gql(ADD, { u: staffId, in: { type: 'GENERAL', ownerLibraryId: libraryId('MAIN') } }, tokens.circ_main);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await state(staffId)).toEqual(before);
});

test('R4.2 a circulation desk operator may not lift a staff user’s block', async () => {
  const staffId = await createPerson(db(), inst, { recordType: 'STAFF', withPassword: false });
  const blockId = await givenBlock(staffId, 'MAIN');
  const before = await state(staffId);
  const res = await app.gql(REMOVE, { id: blockId }, tokens.circ_main);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await state(staffId)).toEqual(before);
});

test('R4.5 a protected account cannot be blocked, whoever asks', async () => {
  const userId = await createPerson(db(), inst, { primaryIdentifier: 'rialto_bot', withPassword: false });
  const before = await state(userId);
  const res = await app.gql(ADD, { u: userId, in: { type: 'GENERAL' } }, tokens.um);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await state(userId)).toEqual(before);
});

test('R4.2 a Fulfillment Services Operator may not add, update or remove blocks (FORBIDDEN)', async () => {
  const userId = await patron();
  const blockId = await givenBlock(userId, null);
  const before = await state(userId);
  const results = [
    await app.gql(ADD, { u: userId, in: { type: 'GENERAL' } }, tokens.fso),
    await app.gql(UPDATE, { id: blockId, in: { type: 'GENERAL', expiresAt: inDays(-1) } }, tokens.fso),
    await app.gql(REMOVE, { id: blockId }, tokens.fso),
  ];
  expect(results.map((r) => r.errors?.[0].extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
  expect(await state(userId)).toEqual(before);
});
