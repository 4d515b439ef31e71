import { InstitutionFixture, PASSWORD, PersonSpec, createInstitution, createPatron, createPerson, loginOperators } from '../support/fixtures';
import { givenOwnedItem, OwnerCode, ownedItemState } from '../support/owned-items';
import { startTestApp, TestApp } from '../support/test-app';

let app: TestApp;
let inst: InstitutionFixture;
const tokens: Record<string, string> = {};

const ADD = `mutation($u: ID!, $in: NoteInput!) { addNote(userId: $u, input: $in) {
  id type text popup userViewable external createdBy owner { institution library { code } } } }`;
const UPDATE = `mutation($id: ID!, $in: NoteInput!) { updateNote(id: $id, input: $in) { id type text popup owner { institution library { code } } } }`;
const REMOVE = `mutation($id: ID!) { removeNote(id: $id) { id notes { id } } }`;

const db = () => app.db.dataSource;
const patron = (spec: PersonSpec = {}) => createPatron(db(), inst, spec);
const libraryId = (code: 'MAIN' | 'LAW') => inst.libraries[code].id;

const givenNote = (userId: string, owner: OwnerCode, opts: { external?: boolean } = {}) =>
  givenOwnedItem(db(), inst, 'user_note', userId, owner, { text: 'given', created_by: 'test' }, opts);
/** Everything a refused request must leave as it was. */
const state = (userId: string) => ownedItemState(db(), 'user_note', 'note_type, text, owner_library_id, popup', userId);

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await db().query(`INSERT INTO code_value (institution_id, kind, code, description) VALUES ($1, 'NOTE_TYPE', 'CIRCULATION', 'Circulation')`, [inst.id]);
  Object.assign(tokens, await loginOperators(app, inst, {
    um: ['USER_MANAGER', 'INSTITUTION'],
    um_law: ['USER_MANAGER', 'LAW'],
    circ_main: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
    fso: ['FULFILLMENT_SERVICES_OPERATOR', 'INSTITUTION'],
  }));
});
afterAll(() => app.close());

test('R6.1 a User Manager adds a note with its type, owner, pop-up and user-viewable flags', async () => {
  const userId = await patron();
  const res = await app.gql(ADD, { u: userId, in: { type: 'CIRCULATION', text: '  Returns books late  ', ownerLibraryId: libraryId('LAW'), popup: true, userViewable: true } }, tokens.um);
  expect(res.data.addNote).toMatchObject({
    type: 'CIRCULATION', text: 'Returns books late', popup: true, userViewable: true, external: false, createdBy: 'um',
    owner: { institution: false, library: { code: 'LAW' } },
  });
});

test('R6.1 a note without a type is a GENERAL note owned by the institution, neither pop-up nor user viewable', async () => {
  const res = await app.gql(ADD, { u: await patron(), in: { text: 'Prefers email' } }, tokens.um);
  expect(res.data.addNote).toMatchObject({ type: 'GENERAL', popup: false, userViewable: false, owner: { institution: true, library: null } });
});

test('R1.1 a contact record may have notes', async () => {
  const contactId = await createPerson(db(), inst, { recordType: 'CONTACT', withPassword: false });
  const res = await app.gql(ADD, { u: contactId, in: { text: 'Account manager for serials' } }, tokens.um);
  expect(res.data?.addNote.text).toBe('Account manager for serials');
});

test('R6.1 an unknown note type is BAD_USER_INPUT naming input.type and nothing is written', async () => {
  const userId = await patron();
  const before = await state(userId);
  const res = await app.gql(ADD, { u: userId, in: { type: 'GOSSIP', text: 'x' } }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.type' });
  expect(await state(userId)).toEqual(before);
});

test('R6.1 a blank note text is BAD_USER_INPUT naming input.text', async () => {
  const res = await app.gql(ADD, { u: await patron(), in: { text: '   ' } }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.text' });
});

test('R6.1 a note text over 4000 characters is BAD_USER_INPUT naming input.text', async () => {
  const res = await app.gql(ADD, { u: await patron(), in: { text: 'x'.repeat(4001) } }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.text' });
});

test('R5.1 an owner library of another institution is BAD_USER_INPUT naming input.ownerLibraryId', async () => {
  const other = await createInstitution(db(), 'OTHER_NOTES');
  const userId = await patron();
  const before = await state(userId);
  const res = await app.gql(ADD, { u: userId, in: { text: 'x', ownerLibraryId: other.libraries.MAIN.id } }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.ownerLibraryId' });
  expect(await state(userId)).toEqual(before);
});

test('R5.3 an operator scoped to the Law library cannot add a note owned by the Main library (FORBIDDEN, nothing written)', async () => {
  const userId = await patron();
  const before = await state(userId);
  const res = await app.gql(ADD, { u: userId, in: { text: 'x', ownerLibraryId: libraryId('MAIN') } }, tokens.um_law);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await state(userId)).toEqual(before);
});

test('R5.3 a library-scoped operator may not create an institution-owned note: the institution owner is outside a library scope', async () => {
  const userId = await patron();
  const before = await state(userId);
  const res = await app.gql(ADD, { u: userId, in: { text: 'x' } }, tokens.um_law);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await state(userId)).toEqual(before);
});

test('R5.3 an operator scoped to the Law library adds, updates and removes a note owned by the Law library', async () => {
  const userId = await patron();
  const added = await app.gql(ADD, { u: userId, in: { text: 'law', ownerLibraryId: libraryId('LAW') } }, tokens.um_law);
  const updated = await app.gql(UPDATE, { id: added.data.addNote.id, in: { text: 'law, edited', ownerLibraryId: libraryId('LAW') } }, tokens.um_law);
  expect(updated.data.updateNote).toMatchObject({ text: 'law, edited', owner: { library: { code: 'LAW' } } });
  const removed = await app.gql(REMOVE, { id: added.data.addNote.id }, tokens.um_law);
  expect(removed.data.removeNote).toEqual({ id: userId, notes: [] });
});

test('R5.2 R5.3 an operator scoped to the Law library cannot update a note owned by the Main library: it is NOT_FOUND and unchanged', async () => {
  const userId = await patron();
  const noteId = await givenNote(userId, 'MAIN');
  const before = await state(userId);
  const res = await app.gql(UPDATE, { id: noteId, in: { text: 'taken over', ownerLibraryId: libraryId('LAW') } }, tokens.um_law);
  expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  expect(await state(userId)).toEqual(before);
});

test('R5.2 R5.3 an operator scoped to the Law library cannot remove a note owned by the Main library: it is NOT_FOUND and kept', async () => {
  const userId = await patron();
  const noteId = await givenNote(userId, 'MAIN');
  const before = await state(userId);
  const res = await app.gql(REMOVE, { id: noteId }, tokens.um_law);
  expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  expect(await state(userId)).toEqual(before);
});

test('R5.3 an operator scoped to the Law library cannot move its note to the Main library', async () => {
  const userId = await patron();
  const noteId = await givenNote(userId, 'LAW');
  const before = await state(userId);
  const res = await app.gql(UPDATE, { id: noteId, in: { text: 'moved', ownerLibraryId: libraryId('MAIN') } }, tokens.um_law);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await state(userId)).toEqual(before);
});

test('R5.3 a library-scoped operator sees but cannot change an institution-owned note (FORBIDDEN)', async () => {
  const userId = await patron();
  const noteId = await givenNote(userId, null);
  const before = await state(userId);
  const res = await app.gql(UPDATE, { id: noteId, in: { text: 'edited', ownerLibraryId: libraryId('LAW') } }, tokens.um_law);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect((await app.gql(REMOVE, { id: noteId }, tokens.um_law)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await state(userId)).toEqual(before);
});

test('R5.3 an institution-scoped operator updates and removes notes of any owner and may add institution-owned ones', async () => {
  const userId = await patron();
  const mainNote = await givenNote(userId, 'MAIN');
  const updated = await app.gql(UPDATE, { id: mainNote, in: { text: 'now the institution’s' } }, tokens.um);
  expect(updated.data.updateNote.owner).toEqual({ institution: true, library: null });
  const lawNote = await givenNote(userId, 'LAW');
  expect((await app.gql(REMOVE, { id: lawNote }, tokens.um)).data.removeNote.notes).toEqual([{ id: mainNote }]);
  expect((await app.gql(ADD, { u: userId, in: { text: 'institution' } }, tokens.um)).data?.addNote.owner.institution).toBe(true);
});

test('R5 with library independence off a library-scoped operator may write notes of any owner, and the owner is recorded', async () => {
  const open = await createInstitution(db(), 'OPEN_NOTES', { libraryIndependence: false });
  await createPerson(db(), open, { primaryIdentifier: 'open_law', roles: [['USER_MANAGER', 'LAW']] });
  const token = await app.login('open_law', PASSWORD);
  const userId = await createPerson(db(), open, { recordType: 'PUBLIC', withPassword: false });
  const main = await app.gql(ADD, { u: userId, in: { text: 'main', ownerLibraryId: open.libraries.MAIN.id } }, token);
  expect(main.data.addNote.owner).toEqual({ institution: false, library: { code: 'MAIN' } });
  const inst = await app.gql(UPDATE, { id: main.data.addNote.id, in: { text: 'institution' } }, token);
  expect(inst.data.updateNote.owner).toEqual({ institution: true, library: null });
  expect((await app.gql(REMOVE, { id: main.data.addNote.id }, token)).data?.removeNote.notes).toEqual([]);
});

test('R3.3 staff may add an internal note to an external user', async () => {
  const userId = await patron({ accountType: 'EXTERNAL' });
  const res = await app.gql(ADD, { u: userId, in: { text: 'internal remark' } }, tokens.um);
  expect(res.data.addNote.external).toBe(false);
});

test('R3.3 an external note cannot be edited (BAD_USER_INPUT naming id)', async () => {
  const userId = await patron({ accountType: 'EXTERNAL' });
  const noteId = await givenNote(userId, null, { external: true });
  const before = await state(userId);
  const res = await app.gql(UPDATE, { id: noteId, in: { text: 'edited' } }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  expect(await state(userId)).toEqual(before);
});

test('R3.3 an external note cannot be removed (BAD_USER_INPUT naming id)', async () => {
  const userId = await patron({ accountType: 'EXTERNAL' });
  const noteId = await givenNote(userId, null, { external: true });
  const before = await state(userId);
  const res = await app.gql(REMOVE, { id: noteId }, tokens.um);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  expect(await state(userId)).toEqual(before);
});

test('R9.1 adding, updating and removing a note are recorded in history with the note’s owner', async () => {
  const userId = await patron();
  const added = await app.gql(ADD, { u: userId, in: { text: 'first', ownerLibraryId: libraryId('LAW'), popup: true } }, tokens.um);
  await app.gql(UPDATE, { id: added.data.addNote.id, in: { type: 'CIRCULATION', text: 'second', ownerLibraryId: libraryId('LAW') } }, tokens.um);
  await app.gql(REMOVE, { id: added.data.addNote.id }, tokens.um);
  const history = await db().query(`SELECT field, old_value, new_value, owner_library_id, changed_by FROM history_entry WHERE user_id = $1 ORDER BY id`, [userId]);
  const owner = libraryId('LAW');
  expect(history).toEqual([
    { field: 'notes', old_value: null, new_value: 'GENERAL: first [pop-up]', owner_library_id: owner, changed_by: 'um' },
    { field: 'notes', old_value: 'GENERAL: first [pop-up]', new_value: 'CIRCULATION: second', owner_library_id: owner, changed_by: 'um' },
    { field: 'notes', old_value: 'CIRCULATION: second', new_value: null, owner_library_id: owner, changed_by: 'um' },
  ]);
});

test('R11.3 NOTE_ADDED, NOTE_UPDATED and NOTE_REMOVED events carry the note and its owner', async () => {
  const userId = await patron();
  const added = await app.gql(ADD, { u: userId, in: { text: 'first', ownerLibraryId: libraryId('MAIN') } }, tokens.um);
  const noteId = added.data.addNote.id;
  await app.gql(UPDATE, { id: noteId, in: { text: 'second', ownerLibraryId: libraryId('MAIN') } }, tokens.um);
  await app.gql(REMOVE, { id: noteId }, tokens.um);
  const events = await db().query(`SELECT event_type, owner_library_id, payload->>'noteId' AS note_id FROM event_outbox WHERE aggregate_id = $1 ORDER BY id`, [userId]);
  expect(events).toEqual(['NOTE_ADDED', 'NOTE_UPDATED', 'NOTE_REMOVED'].map((event_type) => ({ event_type, owner_library_id: libraryId('MAIN'), note_id: noteId })));
});

test('R9.1 R5.2 moving a note between libraries is recorded as leaving the old owner and arriving at the new one', async () => {
  const userId = await patron();
  const noteId = await givenNote(userId, 'MAIN');
  await app.gql(UPDATE, { id: noteId, in: { text: 'given', ownerLibraryId: libraryId('LAW') } }, tokens.um);
  const history = await db().query(`SELECT old_value, new_value, owner_library_id FROM history_entry WHERE user_id = $1 ORDER BY id`, [userId]);
  expect(history).toEqual([
    { old_value: 'GENERAL: given', new_value: null, owner_library_id: libraryId('MAIN') },
    { old_value: null, new_value: 'GENERAL: given', owner_library_id: libraryId('LAW') },
  ]);
  const events = await db().query(`SELECT event_type, owner_library_id FROM event_outbox WHERE aggregate_id = $1 ORDER BY id`, [userId]);
  expect(events).toEqual([
    { event_type: 'NOTE_UPDATED', owner_library_id: libraryId('MAIN') },
    { event_type: 'NOTE_UPDATED', owner_library_id: libraryId('LAW') },
  ]);
});

test('an update that changes nothing writes no history and no event', async () => {
  const userId = await patron();
  const noteId = await givenNote(userId, 'LAW');
  const before = await state(userId);
  const res = await app.gql(UPDATE, { id: noteId, in: { text: 'given', ownerLibraryId: libraryId('LAW') } }, tokens.um);
  expect(res.data.updateNote.text).toBe('given');
  expect(await state(userId)).toEqual(before);
});

test('adding a note stamps the user’s last update with the operator', async () => {
  const userId = await patron();
  await app.gql(ADD, { u: userId, in: { text: 'x' } }, tokens.um);
  const [user] = await db().query(`SELECT updated_by FROM app_user WHERE id = $1`, [userId]);
  expect(user.updated_by).toBe('um');
});

test('R4.5 a protected account gets no notes, whoever asks', async () => {
  const userId = await createPerson(db(), inst, { primaryIdentifier: 'exl_impl', withPassword: false });
  const before = await state(userId);
  const res = await app.gql(ADD, { u: userId, in: { text: 'x' } }, tokens.um);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await state(userId)).toEqual(before);
});

test('R4.2 a circulation desk operator may add a note to a patron but not to a staff user', async () => {
  const ok = await app.gql(ADD, { u: await patron(), in: { text: 'x', ownerLibraryId: libraryId('MAIN') } }, tokens.circ_main);
  expect(ok.data?.addNote.owner.library.code).toBe('MAIN');
  const staffId = await createPerson(db(), inst, { recordType: 'STAFF', withPassword: false });
  const before = await state(staffId);
  const refused = await app.gql(ADD, { u: staffId, in: { text: 'x', ownerLibraryId: libraryId('MAIN') } }, tokens.circ_main);
  expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(await state(staffId)).toEqual(before);
});

test('R4.2 a Fulfillment Services Operator may not add, update or remove notes (FORBIDDEN)', async () => {
  const userId = await patron();
  const noteId = await givenNote(userId, null);
  const before = await state(userId);
  const results = [
    await app.gql(ADD, { u: userId, in: { text: 'x' } }, tokens.fso),
    await app.gql(UPDATE, { id: noteId, in: { text: 'x' } }, tokens.fso),
    await app.gql(REMOVE, { id: noteId }, tokens.fso),
  ];
  expect(results.map((r) => r.errors?.[0].extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN']);
  expect(await state(userId)).toEqual(before);
});

test('an unknown note is NOT_FOUND and a malformed id is BAD_USER_INPUT naming id', async () => {
  const missing = await app.gql(REMOVE, { id: '00000000-0000-4000-8000-000000000000' }, tokens.um);
  expect(missing.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  const malformed = await app.gql(REMOVE, { id: 'nope' }, tokens.um);
  expect(malformed.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
});
