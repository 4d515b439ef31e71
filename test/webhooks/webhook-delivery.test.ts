import crypto from 'node:crypto';
import http from 'node:http';
import { configureFines, givenFine } from '../fines/fine-fixtures';
import { createInstitution, createPatron, createPerson, InstitutionFixture, loginOperators, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { Receiver, signatureIsValid, startReceiver } from './receiver';

/**
 * Issue 13 item 6: webhooks delivered from the outbox to a real local receiver, signed, in order, at least once,
 * retried with backoff and disabled after persistent failure. The retry schedule is shortened (50 ms doubling up to
 * 200 ms, a 1.5 s window) so the suite runs in seconds; the rules are the same as with the defaults.
 */
const SECRET = 'a partner secret of 32 characters';
const WINDOW_MS = 1500;

let app: TestApp;
let inst: InstitutionFixture;
let admin: string;
const receivers: Receiver[] = [];

beforeAll(async () => {
  app = await startTestApp({ webhooks: { allowHttp: true, retryBaseMs: 50, retryMaxMs: 200, retryWindowMs: WINDOW_MS, pollMs: 200, timeoutMs: 2000 } });
  inst = await createInstitution(app.db.dataSource);
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'hook_admin', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  admin = await app.login('hook_admin', PASSWORD);
});
afterEach(async () => {
  // Each test's webhooks go with it, so later changes are not sent to receivers that are gone.
  await app.db.dataSource.query('DELETE FROM webhook');
  for (const r of receivers.splice(0)) await r.close();
});
afterAll(() => app.close());

const CREATE = `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { id status cursor secretHint } }`;
const RENAME = `mutation($id: ID!, $f: String!) { updateUser(id: $id, input: { firstName: $f }) { id } }`;
const STATE = `query($id: ID!) {
  webhook(id: $id) {
    status disabledReason disabledAt failingSince attempts nextAttemptAt lastDeliveryAt lastError pendingEvents cursor
    deliveries(first: 20) { edges { cursor node { deliveryId eventCursor eventType attempt at statusCode error durationMs succeeded nextAttemptAt } } pageInfo { hasNextPage endCursor } }
  }
}`;

async function receiver(answer?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(answer);
  receivers.push(r);
  return r;
}

/** A webhook following user updates with the institution's User Manager role. */
async function createHook(url: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await app.gql(CREATE, { in: { url, secret: SECRET, roles: [{ roleType: 'USER_MANAGER', scope: { type: 'INSTITUTION' } }], events: ['USER_UPDATED'], ...extra } }, admin);
  if (!res.data?.createWebhook) throw new Error(`createWebhook failed: ${JSON.stringify(res.errors)}`);
  return res.data.createWebhook.id;
}

async function rename(userId: string, firstName: string): Promise<void> {
  const res = await app.gql(RENAME, { id: userId, f: firstName }, admin);
  expect(res.errors).toBeUndefined();
}

async function state(id: string) {
  const res = await app.gql(STATE, { id }, admin);
  expect(res.errors).toBeUndefined();
  return res.data.webhook;
}

const newName = (r: { body: any }) => r.body.event.changes.find((c: { field: string }) => c.field === 'firstName')?.newValue;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('delivers a user change as one signed POST: the receiver verifies the HMAC, every header is there, the event is shaped as the events query gives it', async () => {
  const r = await receiver();
  const patron = await createPatron(app.db.dataSource, inst);
  const hookId = await createHook(r.url());
  await rename(patron, 'Signed');
  const [request] = await r.waitFor(1);
  expect(request.headers['content-type']).toBe('application/json');
  expect(request.headers['x-carrel-webhook-id']).toBe(hookId);
  expect(request.headers['x-carrel-event']).toBe('USER_UPDATED');
  expect(request.headers['x-carrel-delivery']).toBe(request.body.id);
  expect(Math.abs(Number(request.headers['x-carrel-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
  expect(request.headers['x-carrel-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
  expect(signatureIsValid(SECRET, request)).toBe(true);
  // Any other secret, or a body changed on the way, fails the check.
  expect(signatureIsValid('another secret of some length', request)).toBe(false);
  expect(signatureIsValid(SECRET, { ...request, raw: request.raw.replace('Signed', 'Forged') })).toBe(false);
  expect(request.body.webhookId).toBe(hookId);
  // The same event, field for field, as the events query returns it to the same roles.
  const events = await app.gql(`query($u: ID) { events(filter: { userId: $u, types: [USER_UPDATED] }) { edges { node {
    cursor type family at by changes { field oldValue newValue } ... on UserEvent { userId } } } } }`, { u: patron }, admin);
  expect(request.body.event).toEqual(events.data.events.edges[0].node);
  expect(request.body.event).toMatchObject({ type: 'USER_UPDATED', family: 'USER', by: 'hook_admin', userId: patron, changes: [{ field: 'firstName', newValue: 'Signed' }] });
});

test('the body alone is signed too, for receivers that check an HMAC-SHA256 over the body (X-Carrel-Signature-Body)', async () => {
  const r = await receiver();
  const patron = await createPatron(app.db.dataSource, inst);
  await createHook(r.url());
  await rename(patron, 'BodySigned');
  const [request] = await r.waitFor(1);
  const expected = `sha256=${crypto.createHmac('sha256', SECRET).update(request.raw).digest('hex')}`;
  expect(request.headers['x-carrel-signature-body']).toBe(expected);
  expect(request.headers['x-carrel-signature']).not.toBe(expected);
});

test('R11.3 a receiver that fails (HTTP 500) and recovers gets the same event again, then the next ones in order: none lost, none twice after success', async () => {
  const r = await receiver((_req, i) => (i < 3 ? 500 : 200));
  const patron = await createPatron(app.db.dataSource, inst);
  const hookId = await createHook(r.url());
  for (const name of ['First', 'Second', 'Third']) await rename(patron, name);
  await r.waitFor(3, 10_000, (x) => x.status === 200);
  await pause(500);
  const [failed, succeeded] = [r.received.filter((x) => x.status === 500), r.received.filter((x) => x.status === 200)];
  // The head event was tried three times and failed, each time with the same delivery id, then delivered.
  expect(failed.map(newName)).toEqual(['First', 'First', 'First']);
  expect(new Set(failed.map((x) => x.body.id))).toEqual(new Set([succeeded[0].body.id]));
  expect(succeeded.map(newName)).toEqual(['First', 'Second', 'Third']);
  expect(new Set(succeeded.map((x) => x.body.id)).size).toBe(3);
  expect(r.received).toHaveLength(6);
  const hook = await state(hookId);
  expect(hook).toMatchObject({ status: 'ACTIVE', attempts: 0, failingSince: null, nextAttemptAt: null, lastError: null, pendingEvents: 0 });
  expect(hook.lastDeliveryAt).not.toBeNull();
  expect(hook.cursor).toBe(succeeded[2].body.event.cursor);
  // The log, newest first: one entry per attempt.
  const log = hook.deliveries.edges.map((e: any) => e.node);
  expect(log.map((d: any) => [d.attempt, d.statusCode, d.succeeded])).toEqual([[1, 200, true], [1, 200, true], [4, 200, true], [3, 500, false], [2, 500, false], [1, 500, false]]);
  expect(log[3]).toMatchObject({ error: 'HTTP 500', eventType: 'USER_UPDATED', eventCursor: succeeded[0].body.event.cursor, deliveryId: succeeded[0].body.id });
  expect(log[3].nextAttemptAt).not.toBeNull();
  // Paged with its cursor.
  const page = await app.gql(`query($id: ID!, $after: String) { webhook(id: $id) { deliveries(first: 2, after: $after) { edges { node { attempt } } pageInfo { hasNextPage } } } }`,
    { id: hookId, after: hook.deliveries.edges[1].cursor }, admin);
  expect(page.data.webhook.deliveries).toEqual({ edges: [{ node: { attempt: 4 } }, { node: { attempt: 3 } }], pageInfo: { hasNextPage: true } });
});

test('a receiver failing past the retry window gets the webhook DISABLED with its reason and a WEBHOOK_DISABLED event; re-enabling resumes from its cursor, nothing lost', async () => {
  let up = false;
  const r = await receiver(() => (up ? 200 : 503));
  const patron = await createPatron(app.db.dataSource, inst);
  const hookId = await createHook(r.url());
  await rename(patron, 'WhileDown');
  let hook = await state(hookId);
  for (const deadline = Date.now() + WINDOW_MS + 5000; hook.status !== 'DISABLED' && Date.now() < deadline; hook = await state(hookId)) await pause(100);
  expect(hook.status).toBe('DISABLED');
  expect(hook.disabledReason).toMatch(/retry window.*HTTP 503/);
  expect(hook.disabledAt).not.toBeNull();
  expect(hook.lastError).toBe('HTTP 503');
  expect(hook.pendingEvents).toBe(1);
  const attempts = r.received.length;
  expect(attempts).toBeGreaterThan(3);
  // Readable once released (no older transaction still running on the server): wait for it.
  const query = `{ events(filter: { types: [WEBHOOK_DISABLED] }) { edges { node { type by ... on ConfigurationEvent { subjectId } } } } }`;
  let disabled = await app.gql(query, {}, admin);
  for (const deadline = Date.now() + 5000; disabled.data.events.edges.length === 0 && Date.now() < deadline; disabled = await app.gql(query, {}, admin)) await pause(50);
  expect(disabled.data.events.edges.map((e: any) => e.node)).toEqual([{ type: 'WEBHOOK_DISABLED', by: 'carrel:webhook-delivery', subjectId: hookId }]);
  // Disabled: nothing is sent, however long it waits.
  await rename(patron, 'WhileDisabled');
  await pause(600);
  expect(r.received).toHaveLength(attempts);
  up = true;
  const enabled = await app.gql(`mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: true }) { status disabledReason attempts failingSince } }`, { id: hookId }, admin);
  expect(enabled.data.updateWebhook).toEqual({ status: 'ACTIVE', disabledReason: null, attempts: 0, failingSince: null });
  const delivered = await r.waitFor(2, 10_000, (x) => x.status === 200);
  expect(delivered.map(newName)).toEqual(['WhileDown', 'WhileDisabled']);
});

test('a redirect is not followed: only the registered URL is called, and the 3xx counts as a failed attempt', async () => {
  const r = await receiver((req) => (req.path === '/hook' ? { redirect: '/elsewhere' } : 200));
  const patron = await createPatron(app.db.dataSource, inst);
  const hookId = await createHook(r.url('/hook'));
  await rename(patron, 'Redirected');
  await r.waitFor(2);
  expect(r.received.every((x) => x.path === '/hook')).toBe(true);
  const hook = await state(hookId);
  expect(hook.status).toBe('ACTIVE');
  expect(hook.lastError).toBe('redirect not followed (HTTP 302)');
  expect(hook.deliveries.edges[hook.deliveries.edges.length - 1].node).toMatchObject({ statusCode: 302, succeeded: false, error: 'redirect not followed (HTTP 302)' });
});

test('a receiver that is not there (connection refused) is retried with the failure named in the log', async () => {
  const r = await receiver();
  const url = r.url();
  await r.close();
  receivers.pop();
  const patron = await createPatron(app.db.dataSource, inst);
  const hookId = await createHook(url);
  await rename(patron, 'Nobody');
  let hook = await state(hookId);
  for (const deadline = Date.now() + 5000; hook.deliveries.edges.length < 2 && Date.now() < deadline; hook = await state(hookId)) await pause(100);
  expect(hook.deliveries.edges.slice(-2).map((e: any) => [e.node.attempt, e.node.statusCode, e.node.error])).toEqual([[2, null, 'connection refused'], [1, null, 'connection refused']]);
});

test('a receiver that does not answer within the timeout fails the attempt, named in the log, and is tried again', async () => {
  const silent = http.createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const patron = await createPatron(app.db.dataSource, inst);
    const hookId = await createHook(`http://127.0.0.1:${(silent.address() as { port: number }).port}/hook`);
    await rename(patron, 'Silent');
    let hook = await state(hookId);
    for (const deadline = Date.now() + 10_000; hook.deliveries.edges.length < 2 && Date.now() < deadline; hook = await state(hookId)) await pause(200);
    expect(hook.deliveries.edges.slice(-2).map((e: any) => [e.node.attempt, e.node.statusCode, e.node.error])).toEqual([[2, null, 'timeout after 2000 ms'], [1, null, 'timeout after 2000 ms']]);
    expect(hook.deliveries.edges[hook.deliveries.edges.length - 1].node.durationMs).toBeGreaterThanOrEqual(1900);
  } finally {
    silent.closeAllConnections();
    silent.close();
  }
});

test('the webhook receives only the event types it asked for, and only what commits after its creation', async () => {
  const r = await receiver();
  const patron = await createPatron(app.db.dataSource, inst);
  await rename(patron, 'BeforeCreation');
  await createHook(r.url(), { events: ['USER_DEACTIVATED'] });
  await rename(patron, 'NotAsked');
  expect((await app.gql(`mutation($id: ID!) { deactivateUser(id: $id) { id } }`, { id: patron }, admin)).errors).toBeUndefined();
  const [request] = await r.waitFor(1);
  await pause(300);
  expect(r.received).toHaveLength(1);
  expect(request.body.event.type).toBe('USER_DEACTIVATED');
});

test('updateWebhook changes the URL and secret: the next request goes to the new URL, signed with the new secret; deleteWebhook stops deliveries', async () => {
  const [old, next] = [await receiver(), await receiver()];
  const patron = await createPatron(app.db.dataSource, inst);
  const hookId = await createHook(old.url());
  const newSecret = 'the second secret, also long';
  const res = await app.gql(`mutation($id: ID!, $in: UpdateWebhookInput!) { updateWebhook(id: $id, input: $in) { url secretHint } }`,
    { id: hookId, in: { url: next.url('/v2'), secret: newSecret } }, admin);
  expect(res.data.updateWebhook).toEqual({ url: next.url('/v2'), secretHint: 'the …' });
  await rename(patron, 'Moved');
  const [request] = await next.waitFor(1);
  expect(signatureIsValid(newSecret, request)).toBe(true);
  expect(old.received).toHaveLength(0);
  const deleted = await app.gql(`mutation($id: ID!) { deleteWebhook(id: $id) { deletedWebhookId } }`, { id: hookId }, admin);
  expect(deleted.data.deleteWebhook.deletedWebhookId).toBe(hookId);
  await rename(patron, 'AfterDelete');
  await pause(500);
  expect(next.received).toHaveLength(1);
  expect((await app.gql(`query($id: ID!) { webhook(id: $id) { id } }`, { id: hookId }, admin)).data.webhook).toBeNull();
});

test('a webhook disabled for longer than events are kept cannot resume: re-enabling it is CURSOR_EXPIRED, never a silent gap', async () => {
  const r = await receiver();
  const hookId = await createHook(r.url());
  expect((await app.gql(`mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: false }) { status } }`, { id: hookId }, admin)).data.updateWebhook.status).toBe('DISABLED');
  const [mark] = await app.db.dataSource.query(`SELECT pruned_xid::text AS xid, pruned_id::text AS id FROM event_retention`);
  // Retention pruned past the webhook's cursor while it was disabled.
  await app.db.dataSource.query(`UPDATE event_retention SET pruned_xid = pg_snapshot_xmin(pg_current_snapshot()), pruned_id = 0`);
  try {
    const res = await app.gql(`mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: true }) { status } }`, { id: hookId }, admin);
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'CURSOR_EXPIRED', field: 'input.enabled' });
    expect((await state(hookId)).status).toBe('DISABLED');
  } finally {
    await app.db.dataSource.query(`UPDATE event_retention SET pruned_xid = $1::xid8, pruned_id = $2`, [mark.xid, mark.id]);
  }
});

test('a URL changed while a page of events is being delivered: the rest of the page goes to the new URL, at most the request in flight to the old one', async () => {
  const next = await receiver();
  const old: string[] = [];
  const patron = await createPatron(app.db.dataSource, inst);
  // A slow receiver: the worker is still working through its page of events when the URL changes.
  const slow = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (body.event.userId === patron) old.push(newName({ body }));
      setTimeout(() => res.writeHead(200).end(), 150);
    });
  });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  try {
    const hookId = await createHook(`http://127.0.0.1:${(slow.address() as { port: number }).port}/old`);
    const setEnabled = (enabled: boolean) => app.gql(`mutation($id: ID!, $e: Boolean!) { updateWebhook(id: $id, input: { enabled: $e }) { status } }`, { id: hookId, e: enabled }, admin);
    // Paused while the changes commit, so the worker reads them as one page when it resumes.
    await setEnabled(false);
    const names = Array.from({ length: 8 }, (_v, i) => `Paged${i}`);
    for (const name of names) await rename(patron, name);
    await setEnabled(true);
    for (const deadline = Date.now() + 10_000; old.length === 0 && Date.now() < deadline;) await pause(20);
    const moved = await app.gql(`mutation($id: ID!, $u: String!) { updateWebhook(id: $id, input: { url: $u }) { url } }`, { id: hookId, u: next.url('/moved') }, admin);
    expect(moved.errors).toBeUndefined();
    const sentBeforeTheChange = old.length;
    const arrived = await next.waitFor(1, 10_000, (r) => newName(r) === names[names.length - 1]);
    expect(old.length).toBeLessThanOrEqual(sentBeforeTheChange + 1);
    expect(old.length).toBeLessThan(names.length);
    // Nothing lost: the new URL receives every event not acknowledged by the old one before the change, in order.
    // Only this patron's: a new webhook may also get an event committed just before it was created, while an older
    // transaction was still running (see insertWebhook), and another test's rename can be one.
    const atNew = next.received.filter((r) => r.body.event.userId === patron).map(newName);
    expect(atNew).toEqual(names.slice(names.indexOf(atNew[0])));
    expect(names.indexOf(atNew[0])).toBeLessThanOrEqual(old.length);
    expect(arrived).toHaveLength(1);
  } finally {
    slow.closeAllConnections();
    slow.close();
  }
});

test('every kind of event issue 13 adds is delivered to an institution-wide administrator\'s webhook, none stuck on a failure to shape it', async () => {
  const r = await receiver();
  const hookId = await createHook(r.url('/all'), { roles: [{ roleType: 'USER_ADMINISTRATOR', scope: { type: 'INSTITUTION' } }], events: [] });
  await configureFines(app.db.dataSource, inst);
  const { desk_all: desk } = await loginOperators(app, inst, { desk_all: ['CIRCULATION_DESK_MANAGER', 'INSTITUTION'] });
  const patron = await createPatron(app.db.dataSource, inst);
  const ok = async (query: string, variables: Record<string, unknown>, token = admin) => {
    const res = await app.gql(query, variables, token);
    expect(res.errors).toBeUndefined();
    return res.data;
  };
  const { recordLoan } = await ok(`mutation($in: RecordLoanInput!) { recordLoan(input: $in) { id } }`,
    { in: { userId: patron, itemBarcode: 'every-kind', libraryId: inst.libraries.MAIN.id, dueDate: new Date(Date.now() + 86_400_000).toISOString() } }, desk);
  await ok(`mutation($id: ID!) { returnLoan(id: $id) { id } }`, { id: recordLoan.id }, desk);
  const fine = await givenFine(app.db.dataSource, inst, patron, '3.00');
  await ok(`mutation($in: ExportFinesToBursarInput!) { exportFinesToBursar(input: $in) { id } }`, { in: { filter: { ownerLibraryId: null } } });
  await ok(`mutation { setPhotoSettings(input: { photoServerUrl: "https://photos.example.edu/u/", photoIdentifierType: "USERNAME", photoSuffix: "jpg" }) { enabled } }`, {});
  await ok(`mutation($u: ID!) { setUserRoles(userId: $u, roles: [{ roleType: "PATRON" }, { roleType: "USER_MANAGER", scope: { type: LIBRARY, libraryId: "${inst.libraries.LAW.id}" } }]) { id } }`, { u: patron });
  const form = new FormData();
  form.append('file', new Blob([Buffer.from('%PDF-1.7\n%%EOF\n', 'latin1')], { type: 'application/pdf' }), 'form.pdf');
  const uploaded = await fetch(`${app.url.replace(/\/graphql$/, '')}/users/${patron}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${admin}` }, body: form });
  expect(uploaded.status).toBe(201);
  await rename(patron, 'EveryKindMarker');
  await r.waitFor(1, 10_000, (q) => newName(q) === 'EveryKindMarker');
  const types = new Set(r.received.map((q) => q.body.event.type));
  for (const type of ['LOAN_RECORDED', 'LOAN_RETURNED', 'FINE_TRANSFERRED', 'PHOTO_SETTINGS_CHANGED', 'ROLE_ASSIGNED', 'ATTACHMENT_ADDED']) expect([type, types.has(type)]).toEqual([type, true]);
  expect(r.received.find((q) => q.body.event.type === 'FINE_TRANSFERRED')!.body.event).toMatchObject({ fineId: fine, userId: patron });
  expect((await state(hookId)).deliveries.edges.filter((e: any) => e.node.error)).toEqual([]);
});
