import { loadConfig } from '../../src/config';
import { checkWebhookUrl } from '../../src/webhooks/webhook-url';
import { configureFines } from '../fines/fine-fixtures';
import { createInstitution, createPatron, createPerson, InstitutionFixture, loginOperators, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { Receiver, startReceiver } from './receiver';

/**
 * Issue 13 item 6: who may register webhooks (webhook.manage, the subset rule as for API keys), what a webhook
 * receives (the policy of subscriptions: institution, families, owner scope, R5.2), which URLs are accepted, and
 * that the secret never leaves the server. Every attack tried is kept here.
 */
const SECRET = 'a partner secret of 32 characters';

let app: TestApp;
let inst: InstitutionFixture;
let other: InstitutionFixture;
let tokens: Record<string, string>;
let otherAdmin: string;
let patron: string;
let otherPatron: string;
let receiver: Receiver;

beforeAll(async () => {
  app = await startTestApp({ webhooks: { allowHttp: true, retryBaseMs: 50, retryMaxMs: 200, pollMs: 200, timeoutMs: 2000 } });
  inst = await createInstitution(app.db.dataSource);
  other = await createInstitution(app.db.dataSource, 'OTHER');
  await configureFines(app.db.dataSource, inst);
  tokens = await loginOperators(app, inst, {
    ua: ['USER_ADMINISTRATOR', 'INSTITUTION'],
    ua_main: ['USER_ADMINISTRATOR', 'MAIN'],
    gsa: ['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION'],
    um: ['USER_MANAGER', 'INSTITUTION'],
  });
  otherAdmin = (await loginOperators(app, other, { ua_other: ['USER_ADMINISTRATOR', 'INSTITUTION'] })).ua_other;
  patron = await createPatron(app.db.dataSource, inst);
  otherPatron = await createPatron(app.db.dataSource, other);
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
  await app.close();
});

const CREATE = `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { id url secretHint roles { roleType scope { type } } } }`;
const institutionRole = (roleType: string) => ({ roleType, scope: { type: 'INSTITUTION' } });
const libraryRole = (roleType: string, library: string) => ({ roleType, scope: { type: 'LIBRARY', libraryId: inst.libraries[library].id } });
const input = (extra: Record<string, unknown> = {}) => ({ url: receiver.url('/other'), secret: SECRET, roles: [institutionRole('USER_MANAGER')], events: ['USER_DELETED'], ...extra });
const webhookCount = async () => (await app.db.dataSource.query(`SELECT count(*)::int AS n FROM webhook`))[0].n as number;
const roleCount = async () => (await app.db.dataSource.query(`SELECT count(*)::int AS n FROM role_assignment WHERE webhook_id IS NOT NULL`))[0].n as number;

async function create(token: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await app.gql(CREATE, { in: input(extra) }, token);
  if (!res.data?.createWebhook) throw new Error(`createWebhook failed: ${JSON.stringify(res.errors)}`);
  return res.data.createWebhook.id;
}

test('R5.2 a library-scoped webhook receives its library\'s and the institution\'s notes, never another library\'s fines, blocks or notes, nor anything of another institution', async () => {
  await create(tokens.ua, { url: receiver.url('/main'), roles: [libraryRole('USER_MANAGER', 'MAIN')], events: [] });
  const ua = tokens.ua;
  const add = async (mutation: string, fields: string, owner: string | null) => {
    const res = await app.gql(`mutation($u: ID!, $o: ID) { ${mutation}(userId: $u, input: { ${fields}, ownerLibraryId: $o }) { id } }`,
      { u: patron, o: owner && inst.libraries[owner].id }, ua);
    expect(res.errors).toBeUndefined();
  };
  await add('addNote', 'text: "law note"', 'LAW');
  await add('addBlock', 'type: "GENERAL"', 'LAW');
  await add('addFine', 'type: "OVERDUEFINE", amount: "3.00"', 'LAW');
  await add('addNote', 'text: "main note"', 'MAIN');
  await add('addNote', 'text: "institution note"', null);
  const elsewhere = await app.gql(`mutation($id: ID!) { updateUser(id: $id, input: { firstName: "Elsewhere" }) { id } }`, { id: otherPatron }, otherAdmin);
  expect(elsewhere.errors).toBeUndefined();
  // Delivered in stream order: once this last change has arrived, everything before it has been decided.
  expect((await app.gql(`mutation($id: ID!) { updateUser(id: $id, input: { firstName: "Marker" }) { id } }`, { id: patron }, ua)).errors).toBeUndefined();
  await receiver.waitFor(1, 10_000, (r) => r.path === '/main' && r.body.event.type === 'USER_UPDATED');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const got = receiver.received.filter((r) => r.path === '/main').map((r) => [r.body.event.type, r.body.event.changes.map((c: any) => c.newValue).join(' ')]);
  expect(got).toEqual([['NOTE_ADDED', expect.stringContaining('main note')], ['NOTE_ADDED', expect.stringContaining('institution note')], ['USER_UPDATED', 'Marker']]);
  expect(receiver.received.some((r) => r.raw.includes(otherPatron) || r.raw.includes('Elsewhere') || r.raw.includes('law note'))).toBe(false);
});

test('a webhook whose roles may not read API keys does not receive webhook events (the API_KEY family needs apiKey.manage)', async () => {
  const id = await create(tokens.ua, { url: receiver.url('/families'), events: [] });
  await app.gql(`mutation($id: ID!) { updateWebhook(id: $id, input: { description: "renamed" }) { id } }`, { id }, tokens.ua);
  expect((await app.gql(`mutation($id: ID!) { updateUser(id: $id, input: { firstName: "FamilyMarker" }) { id } }`, { id: patron }, tokens.ua)).errors).toBeUndefined();
  const [only] = await receiver.waitFor(1, 10_000, (r) => r.path === '/families');
  expect(only.body.event.type).toBe('USER_UPDATED');
  expect(receiver.received.filter((r) => r.path === '/families').map((r) => r.body.event.type)).toEqual(['USER_UPDATED']);
});

test('the subset rule: a library-scoped User Administrator cannot give a webhook an institution-scoped role (FORBIDDEN, nothing written)', async () => {
  const [hooks, roles] = [await webhookCount(), await roleCount()];
  const res = await app.gql(CREATE, { in: input({ roles: [libraryRole('USER_MANAGER', 'MAIN'), institutionRole('USER_MANAGER')] }) }, tokens.ua_main);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'input.roles[1]' });
  expect([await webhookCount(), await roleCount()]).toEqual([hooks, roles]);
  // Nor another library's role.
  const law = await app.gql(CREATE, { in: input({ roles: [libraryRole('USER_MANAGER', 'LAW')] }) }, tokens.ua_main);
  expect(law.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field: 'input.roles[0]' });
  // Its own library's is fine.
  expect((await app.gql(CREATE, { in: input({ roles: [libraryRole('USER_MANAGER', 'MAIN')] }) }, tokens.ua_main)).errors).toBeUndefined();
});

test('a library-scoped User Administrator may neither change nor delete a webhook holding an institution-scoped role', async () => {
  const id = await create(tokens.ua);
  const update = await app.gql(`mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: false }) { id } }`, { id }, tokens.ua_main);
  expect(update.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  const remove = await app.gql(`mutation($id: ID!) { deleteWebhook(id: $id) { deletedWebhookId } }`, { id }, tokens.ua_main);
  expect(remove.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  const [row] = await app.db.dataSource.query(`SELECT status FROM webhook WHERE id = $1`, [id]);
  expect(row.status).toBe('ACTIVE');
});

test('without webhook.manage every webhook operation is FORBIDDEN; without credentials UNAUTHENTICATED', async () => {
  const id = await create(tokens.ua);
  const before = await webhookCount();
  const requests: [string, Record<string, unknown>][] = [
    [CREATE, { in: input() }],
    [`{ webhooks { id } }`, {}],
    [`query($id: ID!) { webhook(id: $id) { id } }`, { id }],
    [`mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: false }) { id } }`, { id }],
    [`mutation($id: ID!) { deleteWebhook(id: $id) { deletedWebhookId } }`, { id }],
  ];
  for (const [query, variables] of requests) {
    expect((await app.gql(query, variables, tokens.um)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await app.gql(query, variables)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  }
  expect(await webhookCount()).toBe(before);
  // The General System Administrator may (webhook.manage), with a role it holds.
  expect((await app.gql(CREATE, { in: input({ roles: [institutionRole('GENERAL_SYSTEM_ADMINISTRATOR')] }) }, tokens.gsa)).errors).toBeUndefined();
});

test('another institution\'s webhook is not there: not listed, null by id, NOT_FOUND to change or delete; a forged id is NOT_FOUND, never a database error', async () => {
  const id = await create(tokens.ua);
  expect((await app.gql(`{ webhooks { id } }`, {}, otherAdmin)).data.webhooks.map((w: any) => w.id)).not.toContain(id);
  expect((await app.gql(`query($id: ID!) { webhook(id: $id) { id } }`, { id }, otherAdmin)).data.webhook).toBeNull();
  for (const target of [id, 'not-a-uuid', '00000000-0000-0000-0000-000000000000']) {
    const update = await app.gql(`mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: false }) { id } }`, { id: target }, otherAdmin);
    expect(update.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const remove = await app.gql(`mutation($id: ID!) { deleteWebhook(id: $id) { deletedWebhookId } }`, { id: target }, otherAdmin);
    expect(remove.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  }
});

test('the secret is write-only: the Webhook type has no field that returns it, lists show only its first characters', async () => {
  const schema = await app.gql(`{ __type(name: "Webhook") { fields { name } } }`, {}, tokens.ua);
  const fields = schema.data.__type.fields.map((f: { name: string }) => f.name);
  expect(fields).toContain('secretHint');
  expect(fields.filter((f: string) => /secret/i.test(f))).toEqual(['secretHint']);
  const id = await create(tokens.ua);
  const all = await app.gql(`{ webhooks { id url secretHint description events families status cursor createdBy } }`, {}, tokens.ua);
  expect(JSON.stringify(all)).not.toContain(SECRET);
  expect(all.data.webhooks.find((w: any) => w.id === id).secretHint).toBe('a pa…');
});

test.each([
  ['ftp: instead of https', 'ftp://partner.example/hook', /https/],
  ['a user name and password in the URL', 'https://user:pw@partner.example/hook', /user name or password/],
  ['a user name alone, the registered host hidden after it', 'https://partner.example@evil.example/hook', /user name or password/],
  ['plain http to another machine (even where http to loopback is allowed)', 'http://partner.example/hook', /only to this machine/],
  ['a relative URL', '/hook', /absolute/],
  ['not a URL', 'partner example', /absolute/],
  ['a fragment', 'https://partner.example/hook#part', /fragment/],
  ['javascript:', 'javascript:alert(1)', /https/],
])('a URL with %s is BAD_USER_INPUT naming input.url, nothing written', async (_what, url, message) => {
  const before = await webhookCount();
  const res = await app.gql(CREATE, { in: input({ url }) }, tokens.ua);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.url' });
  expect(res.errors?.[0].message).toMatch(message);
  expect(await webhookCount()).toBe(before);
});

test('plain http to this machine is accepted by default outside production only; production asks for https unless told otherwise', () => {
  expect(loadConfig({}).webhooks.allowHttp).toBe(true);
  const secret = 'x'.repeat(48);
  expect(loadConfig({ NODE_ENV: 'production', CARREL_TOKEN_SECRET: secret }).webhooks.allowHttp).toBe(false);
  expect(loadConfig({ NODE_ENV: 'production', CARREL_TOKEN_SECRET: secret, CARREL_WEBHOOK_ALLOW_HTTP: 'true' }).webhooks.allowHttp).toBe(true);
  expect(() => checkWebhookUrl('http://127.0.0.1:8080/hook', false, 'input.url')).toThrow(/https/);
  expect(checkWebhookUrl('http://127.0.0.1:8080/hook', true, 'input.url')).toBe('http://127.0.0.1:8080/hook');
});

test.each([
  ['an overlong URL', { url: `https://partner.example/${'a'.repeat(2000)}` }, 'input.url'],
  ['a NUL byte in the URL', { url: 'https://partner.example/ho\u0000ok' }, 'input.url'],
  ['a secret of 15 characters', { secret: 'fifteen chars!!' }, 'input.secret'],
  ['an overlong secret', { secret: 's'.repeat(201) }, 'input.secret'],
  ['a NUL byte in the secret', { secret: 'sixteen chars ok\u0000' }, 'input.secret'],
  ['no roles', { roles: [] }, 'input.roles'],
  ['a role without a scope', { roles: [{ roleType: 'USER_MANAGER' }] }, 'input.roles[0].scope'],
  ['the same role twice', { roles: [institutionRole('USER_MANAGER'), institutionRole('USER_MANAGER')] }, 'input.roles[1]'],
  ['101 event types', { events: Array.from({ length: 101 }, () => 'USER_UPDATED') }, 'input.events'],
  ['51 roles', { roles: Array.from({ length: 51 }, () => institutionRole('USER_MANAGER')) }, 'input.roles'],
  ['a zero-width space in the description', { description: 'partner\u200bsync' }, 'input.description'],
  ['a description of 4,001 characters', { description: 'd'.repeat(4001) }, 'input.description'],
])('%s is BAD_USER_INPUT naming the field, nothing written', async (_what, extra, field) => {
  const before = await webhookCount();
  const res = await app.gql(CREATE, { in: input(extra) }, tokens.ua);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  expect(await webhookCount()).toBe(before);
});

test('updateWebhook checks a new URL and secret by the same rules', async () => {
  const id = await create(tokens.ua);
  const url = await app.gql(`mutation($id: ID!) { updateWebhook(id: $id, input: { url: "https://u:p@partner.example/" }) { id } }`, { id }, tokens.ua);
  expect(url.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.url' });
  const secret = await app.gql(`mutation($id: ID!) { updateWebhook(id: $id, input: { secret: "short" }) { id } }`, { id }, tokens.ua);
  expect(secret.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.secret' });
});

test('webhook changes are API_KEY-family events: the administrators who manage keys see them, a User Manager does not', async () => {
  const id = await create(tokens.ua);
  const query = `{ events(first: 500, filter: { types: [WEBHOOK_CREATED] }) { edges { node { type ... on ConfigurationEvent { subjectId } } } } }`;
  // An event is readable once released (no older transaction still running on the server): wait for it.
  let seen = await app.gql(query, {}, tokens.ua);
  for (const deadline = Date.now() + 5000; !JSON.stringify(seen).includes(id) && Date.now() < deadline; seen = await app.gql(query, {}, tokens.ua)) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(seen.data.events.edges.map((e: any) => e.node.subjectId)).toContain(id);
  const hidden = await app.gql(query, {}, tokens.um);
  expect(hidden.data.events.edges).toEqual([]);
});

describe('attacks kept from the review of issue 13 item 6', () => {
  const UPDATE_ROLES = `mutation($id: ID!, $roles: [RoleInput!]) { updateWebhook(id: $id, input: { roles: $roles }) { id } }`;
  const rolesOf = async (id: string) => (await app.db.dataSource.query(
    `SELECT role_type, scope_type, scope_library_id FROM role_assignment WHERE webhook_id = $1 ORDER BY role_type, scope_type`, [id]));

  test('the subset rule on update: a library-scoped User Administrator cannot give its own webhook an institution-scoped or another library\'s role (FORBIDDEN, roles unchanged)', async () => {
    const id = await create(tokens.ua_main, { roles: [libraryRole('USER_MANAGER', 'MAIN')] });
    const before = await rolesOf(id);
    for (const [roles, field] of [
      [[libraryRole('USER_MANAGER', 'MAIN'), institutionRole('USER_MANAGER')], 'input.roles[1]'],
      [[libraryRole('USER_MANAGER', 'LAW')], 'input.roles[0]'],
      [[institutionRole('USER_ADMINISTRATOR')], 'input.roles[0]'],
    ] as const) {
      const res = await app.gql(UPDATE_ROLES, { id, roles }, tokens.ua_main);
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', field });
    }
    expect(await rolesOf(id)).toEqual(before);
  });

  test('R5.2 a library-scoped webhook receives exactly the events an API key holding its roles reads through the events query', async () => {
    const roles = [libraryRole('USER_MANAGER', 'MAIN')];
    const key = await app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`, { in: { name: 'compare key', roles } }, tokens.ua);
    const secret: string = key.data.createApiKey.secret;
    const hook = await app.gql(`mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { id cursor } }`,
      { in: { url: receiver.url('/compare'), secret: SECRET, roles, events: [] } }, tokens.ua);
    const { cursor } = hook.data.createWebhook;
    const { desk_compare: desk } = await loginOperators(app, inst, { desk_compare: ['CIRCULATION_DESK_MANAGER', 'INSTITUTION'] });
    const from = (await app.db.dataSource.query(`SELECT now() AS now`))[0].now.toISOString();
    const borrower = await createPatron(app.db.dataSource, inst);
    const ok = async (query: string, variables: Record<string, unknown>, token = tokens.ua) => expect((await app.gql(query, variables, token)).errors).toBeUndefined();
    const owned = (mutation: string, fields: string) => `mutation($u: ID!, $o: ID) { ${mutation}(userId: $u, input: { ${fields}, ownerLibraryId: $o }) { id } }`;
    for (const owner of ['LAW', 'MAIN', null]) {
      const o = owner && inst.libraries[owner].id;
      if (owner) {
        await ok(`mutation($in: RecordLoanInput!) { recordLoan(input: $in) { id } }`,
          { in: { userId: borrower, itemBarcode: `compare-${owner}`, libraryId: o, dueDate: new Date(Date.now() + 86_400_000).toISOString() } }, desk);
      }
      await ok(owned('addNote', `text: "compare ${owner}"`), { u: borrower, o });
      await ok(owned('addFine', 'type: "OVERDUEFINE", amount: "2.00"'), { u: borrower, o });
    }
    for (const owner of ['LAW', 'MAIN']) await ok(owned('addBlock', 'type: "GENERAL"'), { u: borrower, o: inst.libraries[owner].id });
    await ok(`mutation($in: ExportFinesToBursarInput!) { exportFinesToBursar(input: $in) { id } }`, { in: { filter: { createdAfter: from } } });
    await ok(`mutation($id: ID!) { updateUser(id: $id, input: { firstName: "CompareMarker" }) { id } }`, { id: borrower });
    const [marker] = await receiver.waitFor(1, 10_000, (r) => r.path === '/compare' && r.raw.includes('CompareMarker'));
    const delivered = receiver.received.filter((r) => r.path === '/compare').map((r) => `${r.body.event.type} ${r.body.event.cursor}`);
    const read = await fetch(app.url, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': secret },
      body: JSON.stringify({ query: `query($after: String) { events(first: 500, after: $after) { edges { node { type cursor } } } }`, variables: { after: cursor } }),
    }).then((r) => r.json() as Promise<any>);
    expect(read.errors).toBeUndefined();
    const readable = read.data.events.edges.map((e: any) => `${e.node.type} ${e.node.cursor}`);
    expect(delivered).toEqual(readable.slice(0, readable.indexOf(`USER_UPDATED ${marker.body.event.cursor}`) + 1));
    // What library independence leaves: MAIN's and the institution's items, never LAW's.
    expect(delivered.map((d) => d.split(' ')[0]).sort()).toEqual([
      'BLOCK_ADDED', 'FINE_ADDED', 'FINE_ADDED', 'FINE_TRANSFERRED', 'FINE_TRANSFERRED', 'LOAN_RECORDED', 'NOTE_ADDED', 'NOTE_ADDED', 'USER_UPDATED',
    ]);
  });

  test('a new webhook\'s cursor is an events cursor, as its description says: events(after:) takes it', async () => {
    const hook = await app.gql(`mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { cursor } }`, { in: input() }, tokens.ua);
    const res = await app.gql(`query($after: String) { events(first: 10, after: $after) { edges { node { type } } } }`, { after: hook.data.createWebhook.cursor }, tokens.um);
    expect(res.errors).toBeUndefined();
  });

  test('createWebhook(url, events, secret) as the issue names it: without roles the webhook holds a copy of its creator\'s roles, so a library-scoped administrator\'s receives only its library\'s', async () => {
    const res = await app.gql(`mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { id roles { roleType scope { type library { code } } } } }`,
      { in: { url: receiver.url('/own-roles'), events: ['NOTE_ADDED'], secret: SECRET } }, tokens.ua_main);
    expect(res.errors).toBeUndefined();
    expect(res.data.createWebhook.roles).toEqual([{ roleType: 'USER_ADMINISTRATOR', scope: { type: 'LIBRARY', library: { code: 'MAIN' } } }]);
    for (const owner of ['LAW', 'MAIN']) {
      const added = await app.gql(`mutation($u: ID!, $o: ID) { addNote(userId: $u, input: { text: "own roles ${owner}", ownerLibraryId: $o }) { id } }`,
        { u: patron, o: inst.libraries[owner].id }, tokens.ua);
      expect(added.errors).toBeUndefined();
    }
    await receiver.waitFor(1, 10_000, (r) => r.path === '/own-roles');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received.filter((r) => r.path === '/own-roles').map((r) => r.body.event.changes[0].newValue)).toEqual([expect.stringContaining('own roles MAIN')]);
  });

  test('R5.2 a webhook copied from an administrator who is also a patron (the Patron role is stored at the institution) still receives only its library\'s', async () => {
    await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'ua_main_patron', roles: [['USER_ADMINISTRATOR', 'MAIN'], ['PATRON', 'INSTITUTION']] });
    const token = await app.login('ua_main_patron', PASSWORD);
    const res = await app.gql(`mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { id roles { roleType } } }`,
      { in: { url: receiver.url('/own-roles-patron'), events: ['NOTE_ADDED'], secret: SECRET } }, token);
    expect(res.errors).toBeUndefined();
    expect(res.data.createWebhook.roles.map((r: { roleType: string }) => r.roleType).sort()).toEqual(['PATRON', 'USER_ADMINISTRATOR']);
    for (const owner of ['LAW', 'MAIN']) {
      const added = await app.gql(`mutation($u: ID!, $o: ID) { addNote(userId: $u, input: { text: "patron copy ${owner}", ownerLibraryId: $o }) { id } }`,
        { u: patron, o: inst.libraries[owner].id }, tokens.ua);
      expect(added.errors).toBeUndefined();
    }
    await receiver.waitFor(1, 10_000, (r) => r.path === '/own-roles-patron');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received.filter((r) => r.path === '/own-roles-patron').map((r) => r.body.event.changes[0].newValue))
      .toEqual([expect.stringContaining('patron copy MAIN')]);
  });

  test('plain http to a name under .localhost is refused: only localhost itself, 127.0.0.0/8 and ::1 are surely this machine', async () => {
    const before = await webhookCount();
    const res = await app.gql(CREATE, { in: input({ url: 'http://partner.localhost:8080/hook' }) }, tokens.ua);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.url' });
    expect(await webhookCount()).toBe(before);
  });

  test('a new secret is never returned nor published: the WEBHOOK_UPDATED event says only that it changed', async () => {
    const id = await create(tokens.ua);
    const fresh = 'the second partner secret, never shown';
    expect((await app.gql(`mutation($id: ID!, $s: String!) { updateWebhook(id: $id, input: { secret: $s }) { id secretHint } }`, { id, s: fresh }, tokens.ua)).errors).toBeUndefined();
    const query = `{ events(first: 100, filter: { types: [WEBHOOK_UPDATED] }) { edges { node { type changes { field oldValue newValue } ... on ConfigurationEvent { subjectId } } } } }`;
    let seen = await app.gql(query, {}, tokens.ua);
    for (const deadline = Date.now() + 5000; !JSON.stringify(seen).includes(id) && Date.now() < deadline; seen = await app.gql(query, {}, tokens.ua)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const mine = seen.data.events.edges.filter((e: any) => e.node.subjectId === id);
    expect(mine.map((e: any) => e.node.changes)).toEqual([[{ field: 'secret', oldValue: null, newValue: '(changed)' }]]);
    const [row] = await app.db.dataSource.query(`SELECT payload::text AS p FROM event_outbox WHERE event_type = 'WEBHOOK_UPDATED' AND aggregate_id = $1`, [id]);
    expect(row.p).not.toContain(fresh);
    expect(JSON.stringify(await app.gql(`{ webhooks { id secretHint description } }`, {}, tokens.ua))).not.toContain(fresh);
  });

  test('a revoked administrator key is UNAUTHENTICATED: it neither registers nor changes webhooks', async () => {
    const created = await app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { apiKey { id } secret } }`,
      { in: { name: 'revoked hook admin', roles: [institutionRole('USER_ADMINISTRATOR')] } }, tokens.ua);
    const { apiKey, secret } = created.data.createApiKey;
    const id = await create(tokens.ua);
    expect((await app.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: apiKey.id }, tokens.ua)).errors).toBeUndefined();
    const before = await webhookCount();
    const asKey = (query: string, variables: Record<string, unknown>) => fetch(app.url, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': secret }, body: JSON.stringify({ query, variables }),
    }).then((r) => r.json() as Promise<any>);
    expect((await asKey(CREATE, { in: input() })).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect((await asKey(`mutation($id: ID!) { deleteWebhook(id: $id) { deletedWebhookId } }`, { id })).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(await webhookCount()).toBe(before);
  });
});
