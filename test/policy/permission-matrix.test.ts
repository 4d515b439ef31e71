import { ACTIONS, Action, grantsFor, INSTITUTION_WIDE } from '../../src/policy/permissions';
import { ROLE_TYPES, RoleTypeInfo } from '../../src/roles/role-types';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';
import { configureFines, givenFine } from '../fines/fine-fixtures';

/**
 * Generated from the policy's own table: every action x every role type x an
 * in-scope and an out-of-scope target. Each operator holds exactly one role,
 * scoped to the MAIN library when the role takes a scope. "In scope" is a
 * target the grant covers (MAIN library, a patron, the own institution); "out
 * of scope" is one it does not (LAW library, a staff user, another
 * institution). A refused mutation must leave the database unchanged.
 */

type Target = 'in' | 'out';

/**
 * What the out-of-scope target is for an action: a library the operator's
 * MAIN scope does not cover, a staff user (patrons-only grants do not reach
 * it), another institution (invisible: nothing found), or none (reports).
 */
type OutOfScope = 'library' | 'staff' | 'institution' | null;

interface ActionCase {
  mutation: boolean;
  outOfScope: OutOfScope;
  /**
   * Institution-wide actions (reports): the in-scope operator holds its role at the institution, the
   * out-of-scope one at the MAIN library, which does not cover the whole institution.
   */
  institutionWide?: boolean;
  /**
   * What a granted operator gets on the out-of-scope target when it is invisible to it (R5.2) rather than forbidden,
   * or (authenticateUser) when the refusal must look like a wrong password.
   */
  outOfScopeRefusal?: 'NOT_FOUND' | 'UNAUTHENTICATED';
  /** Rows the request needs that must exist before the database fingerprint is taken. */
  prepare?(target: Target): Promise<Record<string, string>>;
  run(token: string, target: Target, prepared: Record<string, string>): Promise<GraphQLResponse>;
  /** For an allowed request: did it do what it should? */
  succeeded(res: GraphQLResponse, target: Target): boolean;
}

let app: TestApp;
let inst: InstitutionFixture;
let other: InstitutionFixture;
let staffUser: string;
let patron: string;
let sponsor: string;
let otherUser: string;
let serial = 0;
const tokens = new Map<string, string | null>();
/** Operators holding their role at the institution, for institution-wide actions. */
const institutionTokens = new Map<string, string | null>();

const db = () => app.db.dataSource;
const libraryOf = (target: Target) => inst.libraries[target === 'in' ? 'MAIN' : 'LAW'].id;
const libraryRole = (target: Target) => ({ roleType: 'CATALOGER', scope: { type: 'LIBRARY', libraryId: libraryOf(target) } });
/** The user a user-level action targets: a patron in scope, a staff user out of it. */
const userFor = (target: Target) => (target === 'in' ? patron : staffUser);
const ok = (field: string) => (res: GraphQLResponse) => !!res.data?.[field]?.id;

/** An owned item (R5.3) added to a patron, owned by MAIN (in scope) or LAW (out of scope). */
const ownedItem = (mutation: string, input: string): ActionCase => ({
  mutation: true,
  outOfScope: 'library',
  run: (token, target) => app.gql(`mutation($u: ID!, $owner: ID) { ${mutation}(userId: $u, input: ${input}) { id } }`,
    { u: patron, owner: libraryOf(target) }, token),
  succeeded: ok(mutation),
});

const CASES: Record<Action, ActionCase> = {
  'user.read': {
    mutation: false,
    outOfScope: 'institution',
    run: (token, target) => app.gql(`query($id: ID!) { user(id: $id) { id } }`, { id: target === 'in' ? patron : otherUser }, token),
    // Another institution's user is simply not there.
    succeeded: (res, target) => (target === 'in' ? res.data?.user?.id === patron : res.data?.user === null),
  },
  'user.create': {
    mutation: true,
    outOfScope: 'staff',
    run: (token, target) => {
      serial += 1;
      return app.gql(`mutation($in: CreateUserInput!) { createUser(input: $in) { user { id } } }`, { in: {
        recordType: target === 'in' ? 'PUBLIC' : 'STAFF', primaryIdentifier: `matrix${serial}`, firstName: 'Matrix', lastName: `Case${serial}`,
        emails: [{ address: `matrix${serial}@example.edu`, type: 'PERSONAL' }],
      } }, token);
    },
    succeeded: (res) => !!res.data?.createUser?.user?.id,
  },
  'user.update': {
    mutation: true,
    outOfScope: 'staff',
    run: (token, target) => {
      serial += 1;
      return app.gql(`mutation($id: ID!, $t: String) { updateUser(id: $id, input: { title: $t }) { id } }`, { id: userFor(target), t: `T${serial}` }, token);
    },
    succeeded: ok('updateUser'),
  },
  'user.setCredentials': {
    mutation: true,
    outOfScope: 'staff',
    run: (token, target) => {
      serial += 1;
      return app.gql(`mutation($id: ID!, $p: String) { setUserPassword(userId: $id, password: $p) { id } }`, { id: userFor(target), p: `matrix secret ${serial}` }, token);
    },
    succeeded: ok('setUserPassword'),
  },
  'user.toggleAccountType': {
    mutation: true,
    outOfScope: 'staff',
    run: (token, target) => app.gql(`mutation($id: ID!) { toggleAccountType(userId: $id) { id } }`, { id: userFor(target) }, token),
    succeeded: ok('toggleAccountType'),
  },
  // A new external patron (in scope) or staff member (out of it) from the SIS per case.
  'user.sync': {
    mutation: true,
    outOfScope: 'staff',
    run: (token, target) => {
      serial += 1;
      return app.gql(`mutation($r: [ExternalUserInput!]!) { syncExternalUsers(records: $r) { created failures { message } } }`, { r: [{
        recordType: target === 'in' ? 'PUBLIC' : 'STAFF', primaryIdentifier: `matrix-sis${serial}`, firstName: 'Matrix', lastName: `Sis${serial}`,
        emails: [{ address: `matrix-sis${serial}@example.edu`, type: 'SCHOOL' }],
      }] }, token);
    },
    succeeded: (res) => res.data?.syncExternalUsers?.created === 1,
  },
  // A fresh user per case (a patron in scope, a staff user out of it): an allowed case removes it.
  'user.delete': {
    mutation: true,
    outOfScope: 'staff',
    prepare: async (target) => ({ user: await createPerson(db(), inst, { recordType: target === 'in' ? 'PUBLIC' : 'STAFF', withPassword: false, roles: [['PATRON', 'INSTITUTION']] }) }),
    run: (token, _target, prepared) => app.gql(`mutation($id: ID!) { deleteUser(id: $id) { deletedUserId } }`, { id: prepared.user }, token),
    succeeded: (res) => !!res.data?.deleteUser?.deletedUserId,
  },
  'user.purge': {
    mutation: true,
    outOfScope: 'staff',
    prepare: async (target) => ({ user: await createPerson(db(), inst, { recordType: target === 'in' ? 'PUBLIC' : 'STAFF', withPassword: false, roles: [['PATRON', 'INSTITUTION']] }) }),
    run: (token, _target, prepared) => app.gql(`mutation($id: ID!) { purgeUser(id: $id) { id purgedAt } }`, { id: prepared.user }, token),
    succeeded: (res) => !!res.data?.purgeUser?.purgedAt,
  },
  'user.purgeJob': {
    mutation: true,
    outOfScope: 'library',
    institutionWide: true,
    run: (token) => app.gql(`mutation { runPurgeJob(dryRun: true) { purged skipped } }`, {}, token),
    succeeded: (res) => typeof res.data?.runPurgeJob?.purged === 'number',
  },
  'deleteUserPolicy.manage': {
    mutation: true,
    outOfScope: 'library',
    institutionWide: true,
    run: (token) => {
      serial += 1;
      return app.gql(`mutation($keep: Boolean) { setDeleteUserPolicy(input: { keepCampus: $keep }) { keepCampus } }`, { keep: serial % 2 === 0 }, token);
    },
    succeeded: (res) => typeof res.data?.setDeleteUserPolicy?.keepCampus === 'boolean',
  },
  'note.manage': ownedItem('addNote', '{ text: "matrix note", ownerLibraryId: $owner }'),
  'block.manage': ownedItem('addBlock', '{ type: "GENERAL", ownerLibraryId: $owner }'),
  'statistic.manage': ownedItem('addStatistic', '{ categoryType: "DEPT", category: "MATRIX", ownerLibraryId: $owner }'),
  'proxy.manage': {
    mutation: true,
    outOfScope: 'staff',
    // A fresh proxy per case, so an allowed link never collides with an earlier one.
    prepare: async (target) => ({
      proxy: await createPerson(db(), inst, { recordType: target === 'in' ? 'PUBLIC' : 'STAFF', withPassword: false, roles: [['PATRON', 'INSTITUTION']] }),
    }),
    run: (token, _target, prepared) => app.gql(`mutation($p: ID!, $s: ID!) { addProxy(proxyUserId: $p, sponsorUserId: $s) { id } }`,
      { p: prepared.proxy, s: sponsor }, token),
    succeeded: ok('addProxy'),
  },
  'fine.manage': {
    mutation: true,
    outOfScope: 'library',
    run: (token, target) => app.gql(`mutation($u: ID!, $owner: ID) { addFine(userId: $u, input: { type: "OVERDUEFINE", amount: "2.50", ownerLibraryId: $owner }) { id } }`,
      { u: patron, owner: libraryOf(target) }, token),
    succeeded: ok('addFine'),
  },
  'fine.waive': {
    mutation: true,
    outOfScope: 'library',
    // A LAW fine is not retrieved at all for a MAIN operator (R5.2): not found rather than forbidden.
    outOfScopeRefusal: 'NOT_FOUND',
    prepare: async (target) => ({ fine: await givenFine(db(), inst, patron, '4.00', { owner: target === 'in' ? 'MAIN' : 'LAW' }) }),
    run: (token, _target, prepared) => app.gql(`mutation($f: ID!) { waiveFines(input: { fineIds: [$f], reason: "GOODWILL" }) { count } }`,
      { f: prepared.fine }, token),
    succeeded: (res) => res.data?.waiveFines?.count === 1,
  },
  'role.assign': {
    mutation: true,
    outOfScope: 'library',
    run: (token, target) => {
      serial += 1;
      // Roles are unique by type and scope: rotating the type keeps allowed assignments from colliding.
      const roleType = ['CATALOGER', 'ACQUISITIONS_OPERATOR', 'COURSE_RESERVES_MANAGER', 'SELECTOR'][serial % 4];
      return app.gql(`mutation($u: ID!, $in: RoleInput!) { assignRole(userId: $u, input: $in) { id } }`,
        { u: staffUser, in: { roleType, scope: { type: 'LIBRARY', libraryId: libraryOf(target) } } }, token);
    },
    succeeded: ok('assignRole'),
  },
  'roleProfile.manage': {
    mutation: true,
    outOfScope: 'library',
    run: (token, target) => {
      serial += 1;
      return app.gql(`mutation($in: RoleProfileInput!) { createRoleProfile(input: $in) { id } }`,
        { in: { name: `Matrix profile ${serial}`, roles: [libraryRole(target)] } }, token);
    },
    succeeded: ok('createRoleProfile'),
  },
  'apiKey.manage': {
    mutation: true,
    outOfScope: 'library',
    run: (token, target) => {
      serial += 1;
      // A role the operator may hand on (it holds it), so only apiKey.manage and the scope decide.
      return app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`,
        { in: { name: `matrix key ${serial}`, roles: [{ roleType: 'GENERAL_SYSTEM_ADMINISTRATOR', scope: { type: 'LIBRARY', libraryId: libraryOf(target) } }] } }, token);
    },
    succeeded: (res) => typeof res.data?.createApiKey?.secret === 'string',
  },
  'webhook.manage': {
    mutation: true,
    outOfScope: 'library',
    // Scoped like an API key: a role the operator holds, at its library (in) or another (out). It holds no user.read,
    // so the webhook receives nothing and the server never calls the URL.
    run: (token, target) => app.gql(`mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { id } }`,
      { in: { url: 'https://partner.example/hook', secret: 'matrix secret 0123456789', roles: [{ roleType: 'GENERAL_SYSTEM_ADMINISTRATOR', scope: { type: 'LIBRARY', libraryId: libraryOf(target) } }] } }, token),
    succeeded: ok('createWebhook'),
  },
  'photoSettings.manage': {
    mutation: true,
    outOfScope: 'library',
    institutionWide: true,
    run: (token) => {
      serial += 1;
      return app.gql(`mutation($in: PhotoSettingsInput) { setPhotoSettings(input: $in) { enabled } }`,
        { in: { photoServerUrl: 'https://photos.example.edu/', photoIdentifierType: 'USERNAME', photoSuffix: `s${serial}` } }, token);
    },
    succeeded: (res) => res.data?.setPhotoSettings?.enabled === true,
  },
  'attachment.manage': {
    mutation: true,
    outOfScope: 'staff',
    // Files are uploaded over HTTP (test/attachments); removing one is the same grant, asked over GraphQL.
    prepare: async (target) => {
      const [row] = await db().query(
        `INSERT INTO user_attachment (institution_id, user_id, file_name, media_type, size_bytes, content, sha256, created_by)
         VALUES ($1, $2, 'matrix.png', 'image/png', 8, '\\x89504e470d0a1a0a'::bytea, 'x', 'test') RETURNING id`,
        [inst.id, userFor(target)],
      );
      return { attachment: row.id };
    },
    run: (token, _target, prepared) => app.gql(`mutation($id: ID!) { removeAttachment(id: $id) { removedAttachmentId } }`, { id: prepared.attachment }, token),
    succeeded: (res) => typeof res.data?.removeAttachment?.removedAttachmentId === 'string',
  },
  // A loan at the operator's library (in) or another (out, R5.3) to a fresh patron (the shared one collects blocks); a new item each time.
  'loan.manage': {
    mutation: true,
    outOfScope: 'library',
    prepare: async () => ({ borrower: await createPerson(db(), inst, { recordType: 'PUBLIC', withPassword: false, roles: [['PATRON', 'INSTITUTION']] }) }),
    run: (token, target, prepared) => {
      serial += 1;
      return app.gql(`mutation($in: RecordLoanInput!) { recordLoan(input: $in) { id } }`,
        { in: { userId: prepared.borrower, itemBarcode: `MATRIX-${serial}`, libraryId: libraryOf(target), dueDate: '2099-01-01T00:00:00Z' } }, token);
    },
    succeeded: ok('recordLoan'),
  },
  // An export of the operator's library's fines (in) or another's (out, R5.3); the least amount keeps it empty.
  'fine.export': {
    mutation: true,
    outOfScope: 'library',
    run: (token, target) => app.gql(`mutation($in: ExportFinesToBursarInput!) { exportFinesToBursar(input: $in) { id } }`,
      { in: { filter: { ownerLibraryId: libraryOf(target), minAmount: '999999.00' } } }, token),
    succeeded: ok('exportFinesToBursar'),
  },
  // A partner checks a password: a fresh patron (in) or staff user (out) with one. Desk and fulfilment grants reach
  // patrons only, and their refusal of a staff user is the generic failure a wrong password gets.
  'user.authenticate': {
    mutation: true,
    outOfScope: 'staff',
    outOfScopeRefusal: 'UNAUTHENTICATED',
    prepare: async (target) => {
      serial += 1;
      const identifier = `matrix_auth${serial}`;
      await createPerson(db(), inst, { primaryIdentifier: identifier, recordType: target === 'in' ? 'PUBLIC' : 'STAFF', roles: [['PATRON', 'INSTITUTION']] });
      return { identifier };
    },
    run: (token, _target, prepared) => app.gql(`mutation($i: String!, $p: String!) { authenticateUser(identifier: $i, password: $p) }`,
      { i: prepared.identifier, p: PASSWORD }, token),
    succeeded: (res) => res.data?.authenticateUser === true,
  },
  'report.analytics': {
    mutation: false,
    // Another institution's library owns nothing this institution's analysts can count.
    outOfScope: 'institution',
    run: (token, target) => app.gql(`query($l: ID) { fineTotals(filter: { ownerLibraryId: $l }, groupBy: []) { count } }`,
      { l: target === 'in' ? inst.libraries.MAIN.id : other.libraries.MAIN.id }, token),
    succeeded: (res, target) => typeof res.data?.fineTotals?.[0]?.count === 'number' && (target === 'in' || res.data.fineTotals[0].count === 0),
  },
  'report.namedUsers': {
    mutation: false,
    outOfScope: 'library',
    institutionWide: true,
    run: (token) => app.gql(`{ namedUsersReport { count } }`, {}, token),
    succeeded: (res) => typeof res.data?.namedUsersReport?.count === 'number',
  },
  'report.staffLogin': {
    mutation: false,
    outOfScope: 'library',
    institutionWide: true,
    run: (token) => app.gql(`{ staffLoginReport(from: "2020-01-01T00:00:00Z", to: "2099-01-01T00:00:00Z") { successfulCount } }`, {}, token),
    succeeded: (res) => typeof res.data?.staffLoginReport?.successfulCount === 'number',
  },
};

/** Whether the request should be allowed: the role must be granted the action, and the grant must cover the target. */
function expectedAllowed(action: Action, role: RoleTypeInfo, target: Target): boolean {
  const grant = grantsFor(action).find((g) => g.role === role.code);
  if (!grant || !role.staff) return false;
  if (target === 'in') return true;
  switch (CASES[action].outOfScope) {
    case 'staff': return !grant.patronsOnly;
    case 'institution': return true; // allowed to ask, but the other institution's row is not there
    default: return false; // every operator is scoped to MAIN; LAW is outside it
  }
}

const FINGERPRINTED = ['institution', 'app_user', 'role_assignment', 'role_profile', 'role_profile_entry', 'api_key', 'webhook', 'user_identifier', 'user_email',
  'user_note', 'user_block', 'user_statistic', 'proxy_link', 'fine_fee', 'fine_fee_action', 'history_entry', 'event_outbox',
  'loan', 'bursar_export_batch', 'bursar_export_line'];

/** A digest of every table a mutation here could write, to prove a refused one wrote nothing. */
async function fingerprint(): Promise<string> {
  const [row] = await db().query(`SELECT ${FINGERPRINTED.map((t) => `(SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM ${t} x) AS ${t}`).join(', ')}`);
  return JSON.stringify(row);
}

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  other = await createInstitution(db(), 'ELSEWHERE');
  await db().query(`INSERT INTO code_value (institution_id, kind, code, description) VALUES ($1, 'STATISTIC_CATEGORY', 'MATRIX', 'Matrix')`, [inst.id]);
  await configureFines(db(), inst);
  staffUser = await createPerson(db(), inst, { recordType: 'STAFF', withPassword: false, roles: [['PATRON', 'INSTITUTION']] });
  patron = await createPerson(db(), inst, { recordType: 'PUBLIC', withPassword: false, roles: [['PATRON', 'INSTITUTION']] });
  sponsor = await createPerson(db(), inst, { recordType: 'PUBLIC', withPassword: false, roles: [['PATRON', 'INSTITUTION']] });
  otherUser = await createPerson(db(), other, { recordType: 'STAFF', withPassword: false });
  const login = async (identifier: string, scope: string) => {
    await createPerson(db(), inst, { primaryIdentifier: identifier, roles: [[identifier.replace(/^op_(inst_)?/, '').toUpperCase(), scope]] });
    const res = await app.gql(`mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }`, { i: identifier, p: PASSWORD });
    return res.data?.login?.token ?? null;
  };
  for (const role of ROLE_TYPES) {
    tokens.set(role.code, await login(`op_${role.code.toLowerCase()}`, role.needsScope ? 'MAIN' : 'INSTITUTION'));
    if ([...INSTITUTION_WIDE].some((action) => grantsFor(action).some((g) => g.role === role.code))) {
      institutionTokens.set(role.code, await login(`op_inst_${role.code.toLowerCase()}`, 'INSTITUTION'));
    }
  }
});
afterAll(() => app.close());

const cases = ACTIONS.flatMap((action) => ROLE_TYPES.flatMap((role) =>
  (['in', 'out'] as Target[]).filter((t) => t === 'in' || CASES[action].outOfScope !== null).map((target) => ({ action, role, target }))));

test('the matrix covers every action of the permission table', () => {
  expect(Object.keys(CASES).sort()).toEqual([...ACTIONS].sort());
  expect(Object.keys(CASES).filter((a) => CASES[a as Action].institutionWide).sort()).toEqual([...INSTITUTION_WIDE].sort());
  // Printed so the figure can be quoted: actions x role types x targets.
  console.log(`permission matrix: ${cases.length} cases (${ACTIONS.length} actions x ${ROLE_TYPES.length} role types x in/out of scope)`);
});

test('a role that is not a staff role cannot log in, so it can do nothing', () => {
  for (const role of ROLE_TYPES) expect(tokens.get(role.code) === null).toBe(!role.staff);
});

test.each(cases.map((c) => [c.action, c.role.code, c.target, c] as const))('%s by %s on an %s-of-scope target', async (_a, _r, _t, c) => {
  const token = CASES[c.action].institutionWide && c.target === 'in' ? institutionTokens.get(c.role.code) ?? tokens.get(c.role.code) : tokens.get(c.role.code);
  if (!token) return; // covered by the login test above
  const spec = CASES[c.action];
  const prepared = (await spec.prepare?.(c.target)) ?? {};
  const before = await fingerprint();
  const res = await spec.run(token, c.target, prepared);
  if (expectedAllowed(c.action, c.role, c.target)) {
    expect(res.errors).toBeUndefined();
    expect(spec.succeeded(res, c.target)).toBe(true);
  } else {
    const granted = grantsFor(c.action).some((g) => g.role === c.role.code);
    expect(res.errors?.[0].extensions?.code).toBe(granted && c.target === 'out' ? spec.outOfScopeRefusal ?? 'FORBIDDEN' : 'FORBIDDEN');
    if (spec.mutation) expect(await fingerprint()).toBe(before);
  }
});
