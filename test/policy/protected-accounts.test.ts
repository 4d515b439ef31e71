import { buildSchema } from '../../src/schema';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';
import { configureFines, givenFine } from '../fines/fine-fixtures';

/**
 * R4.5: nobody changes exl_*, rialto_* or leganto_guest, the User
 * Administrator included. Every mutation of the schema must be listed here,
 * either with a request against a protected account or as not targeting a
 * user, so a new mutation fails this test until it is classified.
 */

let app: TestApp;
let inst: InstitutionFixture;
let admin: string;
let patronId: string;
let profileId: string;
const db = () => app.db.dataSource;

/** A protected user and one item of each kind on it, so update/remove mutations have something to aim at. */
interface Target {
  userId: string;
  roleId: string;
  identifierId: string;
  emailId: string;
  addressId: string;
  phoneId: string;
  noteId: string;
  blockId: string;
  statisticId: string;
  proxyLinkId: string;
  fineId: string;
  disputedFineId: string;
  attachmentId: string;
}
const targets = new Map<string, Target>();

type Attempt = (token: string, t: Target) => Promise<GraphQLResponse>;
const call = (query: string, variables: (t: Target) => Record<string, unknown>): Attempt => (token, t) => app.gql(query, variables(t), token);
const byId = (mutation: string, key: keyof Target, selection = '{ id }') =>
  call(`mutation($id: ID!) { ${mutation}(id: $id) ${selection} }`, (t) => ({ id: t[key] }));
const withInput = (mutation: string, key: keyof Target, input: string) =>
  call(`mutation($id: ID!) { ${mutation}(id: $id, input: ${input}) { id } }`, (t) => ({ id: t[key] }));
const addTo = (mutation: string, input: string) =>
  call(`mutation($u: ID!) { ${mutation}(userId: $u, input: ${input}) { id } }`, (t) => ({ u: t.userId }));

const EMAIL = '{ address: "x@example.edu", type: "WORK" }';
const ADDRESS = '{ type: "WORK", line1: "1 Library Way" }';
const PHONE = '{ number: "555-0100", type: "OFFICE" }';

const AGAINST_A_USER: Record<string, Attempt> = {
  removeAttachment: byId('removeAttachment', 'attachmentId', '{ removedAttachmentId }'),
  assignRole: addTo('assignRole', '{ roleType: "CATALOGER", scope: { type: INSTITUTION } }'),
  removeRole: call(`mutation($r: ID!) { removeRole(roleId: $r) { removedRoleId } }`, (t) => ({ r: t.roleId })),
  setUserRoles: call(`mutation($u: ID!) { setUserRoles(userId: $u, roles: [{ roleType: "CATALOGER", scope: { type: INSTITUTION } }]) { id } }`, (t) => ({ u: t.userId })),
  setRoleActive: call(`mutation($r: ID!) { setRoleActive(roleId: $r, active: false) { id } }`, (t) => ({ r: t.roleId })),
  assignRoleProfile: call(`mutation($u: ID!, $p: ID!) { assignRoleProfile(userId: $u, profileId: $p) { id } }`, (t) => ({ u: t.userId, p: profileId })),
  updateUser: withInput('updateUser', 'userId', '{ title: "Dr" }'),
  toggleAccountType: call(`mutation($u: ID!) { toggleAccountType(userId: $u) { id } }`, (t) => ({ u: t.userId })),
  setUserPassword: call(`mutation($u: ID!) { setUserPassword(userId: $u, password: "long enough secret") { id } }`, (t) => ({ u: t.userId })),
  setUserPin: call(`mutation($u: ID!) { setUserPin(userId: $u, pin: "1234") { id } }`, (t) => ({ u: t.userId })),
  unlockUser: call(`mutation($u: ID!) { unlockUser(userId: $u) { id } }`, (t) => ({ u: t.userId })),
  endSessions: call(`mutation($u: ID!) { endSessions(userId: $u) { id } }`, (t) => ({ u: t.userId })),
  deactivateUser: byId('deactivateUser', 'userId'),
  reactivateUser: byId('reactivateUser', 'userId'),
  addIdentifier: addTo('addIdentifier', '{ type: "BARCODE", value: "PROTECTED-NEW" }'),
  updateIdentifier: withInput('updateIdentifier', 'identifierId', '{ type: "BARCODE", value: "PROTECTED-CHANGED" }'),
  removeIdentifier: byId('removeIdentifier', 'identifierId'),
  changePrimaryIdentifier: call(`mutation($u: ID!) { changePrimaryIdentifier(userId: $u, value: "renamed_protected") { id } }`, (t) => ({ u: t.userId })),
  addEmail: addTo('addEmail', EMAIL),
  updateEmail: withInput('updateEmail', 'emailId', EMAIL),
  removeEmail: byId('removeEmail', 'emailId'),
  addAddress: addTo('addAddress', ADDRESS),
  updateAddress: withInput('updateAddress', 'addressId', ADDRESS),
  removeAddress: byId('removeAddress', 'addressId'),
  addPhone: addTo('addPhone', PHONE),
  updatePhone: withInput('updatePhone', 'phoneId', PHONE),
  removePhone: byId('removePhone', 'phoneId'),
  addNote: addTo('addNote', '{ text: "x" }'),
  updateNote: withInput('updateNote', 'noteId', '{ text: "y" }'),
  removeNote: byId('removeNote', 'noteId'),
  addBlock: addTo('addBlock', '{ type: "GENERAL" }'),
  updateBlock: withInput('updateBlock', 'blockId', '{ type: "GENERAL", note: "changed" }'),
  removeBlock: byId('removeBlock', 'blockId'),
  addStatistic: addTo('addStatistic', '{ categoryType: "T", category: "C" }'),
  updateStatistic: withInput('updateStatistic', 'statisticId', '{ categoryType: "T", category: "C" }'),
  removeStatistic: byId('removeStatistic', 'statisticId'),
  addFine: addTo('addFine', '{ type: "OVERDUEFINE", amount: "1.00" }'),
  payFine: withInput('payFine', 'fineId', '{ method: CASH }'),
  payFines: call(`mutation($f: ID!) { payFines(input: { fineIds: [$f], method: CASH }) { id } }`, (t) => ({ f: t.fineId })),
  disputeFine: call(`mutation($f: ID!) { disputeFine(id: $f, comment: "no") { id } }`, (t) => ({ f: t.fineId })),
  restoreFine: byId('restoreFine', 'disputedFineId'),
  waiveFines: call(`mutation($f: ID!) { waiveFines(input: { fineIds: [$f], reason: "GOODWILL" }) { count } }`, (t) => ({ f: t.fineId })),
  addProxy: call(`mutation($p: ID!, $s: ID!) { addProxy(proxyUserId: $p, sponsorUserId: $s) { id } }`, (t) => ({ p: t.userId, s: patronId })),
  removeProxy: byId('removeProxy', 'proxyLinkId'),
  deleteUser: byId('deleteUser', 'userId', '{ deletedUserId }'),
  recordLoan: call(`mutation($u: ID!, $lib: ID!) { recordLoan(input: { userId: $u, itemBarcode: "PROTECTED-ITEM", libraryId: $lib, dueDate: "2099-01-01T00:00:00Z" }) { id } }`,
    (t) => ({ u: t.userId, lib: inst.libraries.MAIN.id })),
  purgeUser: byId('purgeUser', 'userId'),
};

/** Mutations that take no existing user as their target (the operator's own session, new users, configuration, keys). */
const NOT_AGAINST_A_USER = [
  // Checks a password and changes no user; technical accounts never authenticate (test/auth/authenticate-user.test.ts).
  'authenticateUser',
  'login', 'changePassword', 'createUser', 'createRoleProfile', 'updateRoleProfile', 'deleteRoleProfile',
  'createRoleAssignmentRule', 'deleteRoleAssignmentRule', 'createApiKey', 'revokeApiKey',
  // A webhook is a partner's endpoint, like a key: no user is its target.
  'createWebhook', 'updateWebhook', 'deleteWebhook',
  // The purge job names no user: it skips protected accounts (test/lifecycle/purge-job.test.ts).
  'runPurgeJob', 'setDeleteUserPolicy',
  // The photo server is an institution setting.
  'setPhotoSettings',
  // A return names a loan, whoever borrowed it, and no loan is ever recorded to a protected account (recordLoan above).
  'returnLoan',
  // Chooses fines by a filter and leaves protected accounts' fines out (test/fines/bursar-export.test.ts).
  'exportFinesToBursar',
  // Refuses record by record in its payload, not as an error: attacked in its own test below.
  'syncExternalUsers',
];

const PROTECTED = ['exl_impl', 'rialto_support', 'leganto_guest', 'EXL_Mixed'];

async function insertItem(sql: string, params: unknown[]): Promise<string> {
  const [row] = await db().query(sql, params);
  return row.id;
}

async function protectedUser(pid: string): Promise<Target> {
  const userId = await createPerson(db(), inst, { primaryIdentifier: pid, withPassword: false, roles: [['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION']] });
  const [role] = await db().query(`SELECT id FROM role_assignment WHERE user_id = $1`, [userId]);
  const own = [inst.id, userId];
  return {
    userId,
    roleId: role.id,
    identifierId: await insertItem(`INSERT INTO user_identifier (institution_id, user_id, id_type, value) VALUES ($1, $2, 'BARCODE', $3) RETURNING id`, [...own, `B-${pid}`]),
    emailId: await insertItem(`INSERT INTO user_email (institution_id, user_id, address, email_type, is_preferred) VALUES ($1, $2, $3, 'WORK', true) RETURNING id`, [...own, `${pid}@vendor.example`]),
    addressId: await insertItem(`INSERT INTO user_address (institution_id, user_id, address_type, line1) VALUES ($1, $2, 'WORK', '1 Vendor Road') RETURNING id`, own),
    phoneId: await insertItem(`INSERT INTO user_phone (institution_id, user_id, phone_number, phone_type) VALUES ($1, $2, '555-0199', 'OFFICE') RETURNING id`, own),
    noteId: await insertItem(`INSERT INTO user_note (institution_id, user_id, text, created_by) VALUES ($1, $2, 'vendor note', 'test') RETURNING id`, own),
    blockId: await insertItem(`INSERT INTO user_block (institution_id, user_id, block_type, created_by) VALUES ($1, $2, 'GENERAL', 'test') RETURNING id`, own),
    statisticId: await insertItem(`INSERT INTO user_statistic (institution_id, user_id, category_type, category) VALUES ($1, $2, 'T', 'C') RETURNING id`, own),
    attachmentId: await insertItem(`INSERT INTO user_attachment (institution_id, user_id, file_name, media_type, size_bytes, content, sha256, created_by)
      VALUES ($1, $2, 'vendor.png', 'image/png', 8, '\\x89504e470d0a1a0a'::bytea, 'x', 'test') RETURNING id`, own),
    proxyLinkId: await insertItem(`INSERT INTO proxy_link (institution_id, proxy_user_id, sponsor_user_id, created_by) VALUES ($1, $2, $3, 'test') RETURNING id`, [...own, patronId]),
    fineId: await givenFine(db(), inst, userId, '5.00', { owner: null }),
    disputedFineId: await givenFine(db(), inst, userId, '5.00', { owner: null, status: 'IN_DISPUTE' }),
  };
}

/** Everything a mutation could change about a user, as one comparable value. */
async function snapshot(userId: string): Promise<unknown> {
  const [row] = await db().query(`SELECT u.status, u.account_type, u.primary_identifier, u.title, u.updated_at, u.sessions_valid_after,
    (SELECT json_agg(r.* ORDER BY r.id) FROM role_assignment r WHERE r.user_id = u.id) AS roles,
    (SELECT json_agg(i.* ORDER BY i.id) FROM user_identifier i WHERE i.user_id = u.id) AS identifiers,
    (SELECT json_agg(e.* ORDER BY e.id) FROM user_email e WHERE e.user_id = u.id) AS emails,
    (SELECT json_agg(a.* ORDER BY a.id) FROM user_address a WHERE a.user_id = u.id) AS addresses,
    (SELECT json_agg(p.* ORDER BY p.id) FROM user_phone p WHERE p.user_id = u.id) AS phones,
    (SELECT json_agg(n.* ORDER BY n.id) FROM user_note n WHERE n.user_id = u.id) AS notes,
    (SELECT json_agg(b.* ORDER BY b.id) FROM user_block b WHERE b.user_id = u.id) AS blocks,
    (SELECT json_agg(s.* ORDER BY s.id) FROM user_statistic s WHERE s.user_id = u.id) AS statistics,
    (SELECT json_agg(l.* ORDER BY l.id) FROM proxy_link l WHERE l.proxy_user_id = u.id OR l.sponsor_user_id = u.id) AS proxies,
    (SELECT json_agg(f.* ORDER BY f.id) FROM fine_fee f WHERE f.user_id = u.id) AS fines,
    (SELECT count(*) FROM fine_fee_action a JOIN fine_fee f ON f.id = a.fine_id WHERE f.user_id = u.id) AS fine_actions,
    (SELECT count(*) FROM history_entry h WHERE h.user_id = u.id) AS history,
    (SELECT json_agg(a.id ORDER BY a.id) FROM user_attachment a WHERE a.user_id = u.id) AS attachments
    FROM app_user u WHERE u.id = $1`, [userId]);
  return row;
}

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await configureFines(db(), inst);
  await createPerson(db(), inst, { primaryIdentifier: 'admin', roles: [['USER_ADMINISTRATOR', 'INSTITUTION'], ['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION'],
    // Loans are recorded by circulation: the desk manager's loan.manage, so that the refusal is the protection's.
    ['CIRCULATION_DESK_MANAGER', 'INSTITUTION']] });
  admin = await app.login('admin', PASSWORD);
  patronId = await createPerson(db(), inst, { recordType: 'PUBLIC', withPassword: false, roles: [['PATRON', 'INSTITUTION']] });
  for (const pid of PROTECTED) targets.set(pid, await protectedUser(pid));
  const res = await app.gql(`mutation { createRoleProfile(input: { name: "P", roles: [{ roleType: "CATALOGER", scope: { type: INSTITUTION } }] }) { id } }`, {}, admin);
  profileId = res.data.createRoleProfile.id;
});
afterAll(() => app.close());

test('R4.5 every mutation of the schema is classified for this test', () => {
  const mutations = Object.keys(buildSchema().getMutationType()!.getFields()).sort();
  expect([...Object.keys(AGAINST_A_USER), ...NOT_AGAINST_A_USER].filter((m) => mutations.includes(m)).sort()).toEqual(mutations);
});

const cases = Object.keys(AGAINST_A_USER).flatMap((mutation) => PROTECTED.map((account) => [mutation, account] as const));

test.each(cases)('R4.5 %s against %s is refused even for the User Administrator, and changes nothing', async (mutation, account) => {
  const target = targets.get(account)!;
  const before = await snapshot(target.userId);
  const res = await AGAINST_A_USER[mutation](admin, target);
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  expect(res.errors?.[0].message).toMatch(/protected account/);
  expect(await snapshot(target.userId)).toEqual(before);
});

const SYNC = `mutation($r: [ExternalUserInput!]!, $m: SyncMatchInput) { syncExternalUsers(records: $r, matchOn: $m) { failures { code message field } } }`;

test.each(PROTECTED)('R4.5 syncExternalUsers never writes over %s, matched by another identifier or named', async (account) => {
  const target = targets.get(account)!;
  const before = await snapshot(target.userId);
  const record = { primaryIdentifier: 'sis_newcomer', firstName: 'Sis', lastName: 'Record', emails: [{ address: 'sis@example.edu', type: 'SCHOOL' }] };
  const matched = await app.gql(SYNC, { r: [{ ...record, identifiers: [{ type: 'BARCODE', value: `B-${account}` }] }], m: { key: 'IDENTIFIER_TYPE', identifierType: 'BARCODE' } }, admin);
  expect(matched.data.syncExternalUsers.failures).toEqual([expect.objectContaining({ code: 'FORBIDDEN', message: expect.stringMatching(/protected account/) })]);
  const named = await app.gql(SYNC, { r: [{ ...record, primaryIdentifier: account }] }, admin);
  expect(named.data.syncExternalUsers.failures).toEqual([expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'records[0].primaryIdentifier' })]);
  expect(await snapshot(target.userId)).toEqual(before);
});
