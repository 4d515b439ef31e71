import crypto from 'node:crypto';
import http from 'node:http';
import type { DataSource } from 'typeorm';
import { createInstitution, createPatron, createPerson, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Specification of user attachments (issue 13 item 8): staff attach files to a user over HTTP beside /graphql
 * (multipart upload, JSON list, download, delete) with the same credentials and policy as GraphQL; the type is found
 * from the content; files live in PostgreSQL with their history entry and event, and go with delete and purge.
 */

const MAX_BYTES = 64 * 1024;
const MAX_PER_USER = 3;

let app: TestApp;
let base: string;
let inst: InstitutionFixture;
let other: InstitutionFixture;
let tokens: Record<string, string>;
const db = (): DataSource => app.db.dataSource;
const saved = { bytes: process.env.CARREL_ATTACHMENT_MAX_BYTES, perUser: process.env.CARREL_ATTACHMENT_MAX_PER_USER };

beforeAll(async () => {
  process.env.CARREL_ATTACHMENT_MAX_BYTES = String(MAX_BYTES);
  process.env.CARREL_ATTACHMENT_MAX_PER_USER = String(MAX_PER_USER);
  app = await startTestApp();
  base = app.url.replace(/\/graphql$/, '');
  inst = await createInstitution(db());
  other = await createInstitution(db(), 'OTHER');
  tokens = await loginOperators(app, inst, {
    um_att: ['USER_MANAGER', 'INSTITUTION'],
    circ_att: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
    fso_att: ['FULFILLMENT_SERVICES_OPERATOR', 'INSTITUTION'],
    ua_att: ['USER_ADMINISTRATOR', 'INSTITUTION'],
  });
  Object.assign(tokens, await loginOperators(app, other, { um_other_att: ['USER_MANAGER', 'INSTITUTION'] }));
});
afterAll(async () => {
  await app.close();
  for (const [name, value] of [['CARREL_ATTACHMENT_MAX_BYTES', saved.bytes], ['CARREL_ATTACHMENT_MAX_PER_USER', saved.perUser]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** A PNG's signature and IHDR chunk followed by filler: the content check reads the first bytes only. */
const png = (size = 256) => Buffer.concat([Buffer.from(PNG_SIGNATURE), Buffer.from('0000000d49484452', 'hex'), crypto.randomBytes(size)]);
const pdf = () => Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');
const exe = () => Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), crypto.randomBytes(200)]);
const html = () => Buffer.from('<!DOCTYPE html><html><script>alert(document.cookie)</script></html>', 'utf8');

const auth = (token?: string): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

/** POSTs one file as multipart/form-data, as a browser's FormData would. */
function upload(userId: string, token: string | undefined, file: { bytes: Buffer; name?: string; type?: string }) {
  const form = new FormData();
  form.append('file', new Blob([file.bytes], { type: file.type ?? 'application/octet-stream' }), file.name ?? 'scan.png');
  return fetch(`${base}/users/${userId}/attachments`, { method: 'POST', headers: auth(token), body: form });
}

/** A multipart body written by hand, for what FormData will not send (a NUL byte in the name, two parts). */
function rawUpload(userId: string, token: string, parts: { name: string; fileName: string; bytes: Buffer; encoded?: boolean }[]) {
  const boundary = `----carrel${crypto.randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"; ${p.encoded ? `filename*=UTF-8''${encodeURIComponent(p.fileName)}` : `filename="${p.fileName}"`}\r\nContent-Type: image/png\r\n\r\n`, 'utf8'));
    chunks.push(p.bytes, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return fetch(`${base}/users/${userId}/attachments`, {
    method: 'POST', headers: { ...auth(token), 'content-type': `multipart/form-data; boundary=${boundary}` }, body: Buffer.concat(chunks),
  });
}

function formOf(bytes: Buffer, name = 'scan.png') {
  const form = new FormData();
  form.append('file', new Blob([bytes]), name);
  return form;
}

const list = (userId: string, token?: string) => fetch(`${base}/users/${userId}/attachments`, { headers: auth(token) });
const download = (id: string, token?: string) => fetch(`${base}/attachments/${id}`, { headers: auth(token) });
const remove = (id: string, token?: string) => fetch(`${base}/attachments/${id}`, { method: 'DELETE', headers: auth(token) });

async function errorOf(res: Response) {
  const body = (await res.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
  return { status: res.status, ...body.errors[0].extensions, message: body.errors[0].message };
}

/** Rows that an upload writes: files, history entries about attachments, attachment events. */
async function written(userId?: string) {
  const [row] = await db().query(
    `SELECT (SELECT count(*)::int FROM user_attachment WHERE $1::uuid IS NULL OR user_id = $1) AS files,
            (SELECT count(*)::int FROM history_entry WHERE field = 'attachments' AND ($1::uuid IS NULL OR user_id = $1)) AS history,
            (SELECT count(*)::int FROM event_outbox WHERE event_type LIKE 'ATTACHMENT\\_%' AND ($1::uuid IS NULL OR aggregate_id = $1)) AS events`,
    [userId ?? null],
  );
  return row as { files: number; history: number; events: number };
}

async function uploaded(userId: string, token: string, file: { bytes: Buffer; name?: string; type?: string }) {
  const res = await upload(userId, token, file);
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; fileName: string; mediaType: string; sizeBytes: number; sha256: string; createdBy: string; downloadUrl: string };
}

test('an uploaded PNG is stored with its type from the content, its size, digest and who attached it', async () => {
  const patron = await createPatron(db(), inst);
  const bytes = png();
  const res = await upload(patron, tokens.um_att, { bytes, name: 'library-card.png', type: 'image/png' });
  expect(res.status).toBe(201);
  const body: any = await res.json();
  expect(body).toEqual({
    id: expect.any(String), userId: patron, fileName: 'library-card.png', mediaType: 'image/png', sizeBytes: bytes.length,
    sha256: crypto.createHash('sha256').update(bytes).digest('hex'), createdBy: 'um_att', createdAt: expect.any(String),
    downloadUrl: `/attachments/${body.id}`,
  });
  expect(res.headers.get('location')).toBe(`/attachments/${body.id}`);
});

test('an attachment is listed on User.attachments and in the JSON list', async () => {
  const patron = await createPatron(db(), inst);
  const a = await uploaded(patron, tokens.um_att, { bytes: png(), name: 'form.png' });
  const gql = await app.gql(`query($id: ID!) { user(id: $id) { attachments { id fileName mediaType sizeBytes sha256 createdBy createdAt downloadUrl } } }`,
    { id: patron }, tokens.um_att);
  expect(gql.errors).toBeUndefined();
  expect(gql.data.user.attachments).toEqual([{
    id: a.id, fileName: 'form.png', mediaType: 'image/png', sizeBytes: a.sizeBytes, sha256: a.sha256, createdBy: 'um_att',
    createdAt: expect.any(String), downloadUrl: a.downloadUrl,
  }]);
  const res = await list(patron, tokens.um_att);
  expect(res.status).toBe(200);
  expect(((await res.json()) as any).attachments).toEqual([expect.objectContaining({ id: a.id, fileName: 'form.png', mediaType: 'image/png' })]);
});

test('a download returns the identical bytes with the stored type, as an attachment, nosniff and not cached', async () => {
  const patron = await createPatron(db(), inst);
  const bytes = png(4000);
  const a = await uploaded(patron, tokens.um_att, { bytes, name: 'Zoë “ID” card.png' });
  const res = await download(a.id, tokens.um_att);
  expect(res.status).toBe(200);
  expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  expect(res.headers.get('content-type')).toBe('image/png');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('content-disposition')).toBe(
    `attachment; filename="Zo_ _ID_ card.png"; filename*=UTF-8''${encodeURIComponent('Zoë “ID” card.png')}`,
  );
});

test('the type comes from the content, not the name or the declared type: a PDF named .png is stored as a PDF', async () => {
  const patron = await createPatron(db(), inst);
  const a = await uploaded(patron, tokens.um_att, { bytes: pdf(), name: 'photo.png', type: 'image/png' });
  expect(a.mediaType).toBe('application/pdf');
  expect((await download(a.id, tokens.um_att)).headers.get('content-type')).toBe('application/pdf');
});

test.each([
  ['an executable', exe],
  ['an HTML page', html],
  ['plain text', () => Buffer.from('just some text\n')],
  ['an SVG image', () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')],
])('%s named .png and declared image/png is refused with 415 and nothing is stored', async (_what, content) => {
  const patron = await createPatron(db(), inst);
  const res = await upload(patron, tokens.um_att, { bytes: content(), name: 'innocent.png', type: 'image/png' });
  expect(await errorOf(res)).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', field: 'file' });
  expect(await written(patron)).toEqual({ files: 0, history: 0, events: 0 });
});

test('a file over the size limit is refused with 413 and nothing is stored', async () => {
  const patron = await createPatron(db(), inst);
  const res = await upload(patron, tokens.um_att, { bytes: png(MAX_BYTES) });
  expect(await errorOf(res)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  expect(await written(patron)).toEqual({ files: 0, history: 0, events: 0 });
});

test('a body far over the limit is refused with 413 from its Content-Length, before it is read', async () => {
  const patron = await createPatron(db(), inst);
  const res = await upload(patron, tokens.um_att, { bytes: png(20 * MAX_BYTES) });
  expect(await errorOf(res)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  expect(await written(patron)).toEqual({ files: 0, history: 0, events: 0 });
});

test('a file of exactly the limit is accepted', async () => {
  const patron = await createPatron(db(), inst);
  const bytes = png(MAX_BYTES - 16);
  expect(bytes.length).toBe(MAX_BYTES);
  expect((await uploaded(patron, tokens.um_att, { bytes })).sizeBytes).toBe(MAX_BYTES);
});

test('an empty file is refused with 400', async () => {
  const patron = await createPatron(db(), inst);
  expect(await errorOf(await upload(patron, tokens.um_att, { bytes: Buffer.alloc(0) }))).toMatchObject({ status: 400, code: 'BAD_USER_INPUT', field: 'file' });
});

test('a body that is not multipart is refused with 415; one without a part named "file" or with two files with 400', async () => {
  const patron = await createPatron(db(), inst);
  const json = await fetch(`${base}/users/${patron}/attachments`, {
    method: 'POST', headers: { ...auth(tokens.um_att), 'content-type': 'application/json' }, body: JSON.stringify({ file: 'iVBORw0KGgo=' }),
  });
  expect(await errorOf(json)).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
  expect(await errorOf(await rawUpload(patron, tokens.um_att, [{ name: 'document', fileName: 'a.png', bytes: png() }])))
    .toMatchObject({ status: 400, code: 'BAD_USER_INPUT' });
  expect(await errorOf(await rawUpload(patron, tokens.um_att, [{ name: 'file', fileName: 'a.png', bytes: png() }, { name: 'file', fileName: 'b.png', bytes: png() }])))
    .toMatchObject({ status: 400, code: 'BAD_USER_INPUT' });
  expect(await written(patron)).toEqual({ files: 0, history: 0, events: 0 });
});

test('without credentials every attachment route answers 401 UNAUTHENTICATED', async () => {
  const patron = await createPatron(db(), inst);
  const a = await uploaded(patron, tokens.um_att, { bytes: png() });
  for (const res of [await upload(patron, undefined, { bytes: png() }), await list(patron), await download(a.id), await remove(a.id)]) {
    expect(await errorOf(res)).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
  }
  const forged = await download(a.id, 'not-a-token');
  expect(forged.status).toBe(401);
  expect(await written(patron)).toEqual({ files: 1, history: 1, events: 1 });
});

test('a cross-site form post carries no credentials (they are only read from headers) and is refused 401', async () => {
  const patron = await createPatron(db(), inst);
  const form = new FormData();
  form.append('file', new Blob([png()]), 'a.png');
  const res = await fetch(`${base}/users/${patron}/attachments`, {
    method: 'POST', body: form, headers: { origin: 'https://evil.example', cookie: `token=${tokens.um_att}` },
  });
  expect(res.status).toBe(401);
});

test('R4.2 a Fulfillment Services Operator may list and download but neither upload (403) nor delete (403)', async () => {
  const patron = await createPatron(db(), inst);
  const a = await uploaded(patron, tokens.um_att, { bytes: png() });
  expect((await list(patron, tokens.fso_att)).status).toBe(200);
  expect((await download(a.id, tokens.fso_att)).status).toBe(200);
  expect(await errorOf(await upload(patron, tokens.fso_att, { bytes: png() }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  expect(await errorOf(await remove(a.id, tokens.fso_att))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  expect(await written(patron)).toEqual({ files: 1, history: 1, events: 1 });
});

test('R4.2 a circulation desk operator attaches to a patron but not to a staff user', async () => {
  const patron = await createPatron(db(), inst);
  expect((await upload(patron, tokens.circ_att, { bytes: png() })).status).toBe(201);
  const staff = await createPerson(db(), inst, { roles: [['CATALOGER', 'INSTITUTION']] });
  expect(await errorOf(await upload(staff, tokens.circ_att, { bytes: png() }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  expect(await written(staff)).toEqual({ files: 0, history: 0, events: 0 });
});

test('R4.2 a circulation desk operator cannot delete a staff user\'s attachment', async () => {
  const staff = await createPerson(db(), inst, { roles: [['CATALOGER', 'INSTITUTION']] });
  const a = await uploaded(staff, tokens.um_att, { bytes: png() });
  expect(await errorOf(await remove(a.id, tokens.circ_att))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  expect(await written(staff)).toEqual({ files: 1, history: 1, events: 1 });
});

test('another institution\'s user and attachments are NOT_FOUND (404) for every route', async () => {
  const patron = await createPatron(db(), inst);
  const a = await uploaded(patron, tokens.um_att, { bytes: png() });
  for (const res of [await upload(patron, tokens.um_other_att, { bytes: png() }), await list(patron, tokens.um_other_att),
    await download(a.id, tokens.um_other_att), await remove(a.id, tokens.um_other_att)]) {
    expect(await errorOf(res)).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  }
  expect(await written(patron)).toEqual({ files: 1, history: 1, events: 1 });
});

test('forged ids: a malformed id is BAD_USER_INPUT (400), an unknown one NOT_FOUND (404)', async () => {
  expect(await errorOf(await download('../../etc/passwd', tokens.um_att))).toMatchObject({ status: 404 });
  expect(await errorOf(await download('not-a-uuid', tokens.um_att))).toMatchObject({ status: 400, code: 'BAD_USER_INPUT', field: 'id' });
  expect(await errorOf(await download(crypto.randomUUID(), tokens.um_att))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  expect(await errorOf(await list('1 OR 1=1', tokens.um_att))).toMatchObject({ status: 400, code: 'BAD_USER_INPUT', field: 'userId' });
  expect(await errorOf(await upload('not-a-uuid', tokens.um_att, { bytes: png() }))).toMatchObject({ status: 400, field: 'userId' });
  expect(await errorOf(await upload(crypto.randomUUID(), tokens.um_att, { bytes: png() }))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  expect(await errorOf(await remove(crypto.randomUUID(), tokens.um_att))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
});

test('R4.5 nobody attaches to a protected account, not even a User Administrator', async () => {
  const vendor = await createPerson(db(), inst, { primaryIdentifier: 'exl_att_vendor', roles: [['CATALOGER', 'INSTITUTION']] });
  expect(await errorOf(await upload(vendor, tokens.ua_att, { bytes: png() }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  expect(await written(vendor)).toEqual({ files: 0, history: 0, events: 0 });
});

test('R4.2 an operator marked "can\'t edit restricted users" cannot attach to a restricted user', async () => {
  const patron = await createPatron(db(), inst);
  await db().query(`UPDATE app_user SET is_restricted = true WHERE id = $1`, [patron]);
  const id = await createPerson(db(), inst, { primaryIdentifier: 'um_norestricted', roles: [['USER_MANAGER', 'INSTITUTION']] });
  await db().query(`UPDATE app_user SET cannot_edit_restricted_users = true WHERE id = $1`, [id]);
  const token = await app.login('um_norestricted', 'correct horse battery');
  expect(await errorOf(await upload(patron, token, { bytes: png() }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  expect((await upload(patron, tokens.um_att, { bytes: png() })).status).toBe(201);
});

test('a path in the file name is dropped: only the last segment is kept', async () => {
  const patron = await createPatron(db(), inst);
  expect((await uploaded(patron, tokens.um_att, { bytes: png(), name: '../../../etc/passwd.png' })).fileName).toBe('passwd.png');
  expect((await uploaded(patron, tokens.um_att, { bytes: png(), name: 'C:\\fakepath\\scan.png' })).fileName).toBe('scan.png');
});

test('a NUL byte in the file name is refused with 400 and nothing is stored', async () => {
  const patron = await createPatron(db(), inst);
  const res = await rawUpload(patron, tokens.um_att, [{ name: 'file', fileName: 'pass\u0000wd.png', bytes: png() }]);
  expect(await errorOf(res)).toMatchObject({ status: 400, code: 'BAD_USER_INPUT' });
  expect(await written(patron)).toEqual({ files: 0, history: 0, events: 0 });
});

test('control characters, NUL and bidirectional overrides sent encoded (filename*) are removed from the file name', async () => {
  const patron = await createPatron(db(), inst);
  const res = await rawUpload(patron, tokens.um_att, [{ name: 'file', fileName: 'pass\u0007wd\u202egnp.exe\u0000', bytes: png(), encoded: true }]);
  expect(res.status).toBe(201);
  expect(((await res.json()) as any).fileName).toBe('passwdgnp.exe');
});

test('a file name with nothing left, or only dots, is stored as "attachment"; an overlong one is cut to 255 characters keeping the extension', async () => {
  const patron = await createPatron(db(), inst);
  expect((await uploaded(patron, tokens.um_att, { bytes: png(), name: '..' })).fileName).toBe('attachment');
  const long = await uploaded(patron, tokens.um_att, { bytes: png(), name: `${'é'.repeat(400)}.png` });
  expect([...long.fileName]).toHaveLength(255);
  expect(long.fileName.endsWith('é.png')).toBe(true);
});

test('R9 an upload writes exactly one history entry and one ATTACHMENT_ADDED event, in its transaction', async () => {
  const patron = await createPatron(db(), inst);
  const a = await uploaded(patron, tokens.um_att, { bytes: pdf(), name: 'consent.pdf' });
  const history = await db().query(`SELECT field, old_value, new_value, changed_by FROM history_entry WHERE user_id = $1`, [patron]);
  expect(history).toEqual([{ field: 'attachments', old_value: null, new_value: `consent.pdf (application/pdf, ${a.sizeBytes} bytes)`, changed_by: 'um_att' }]);
  const [event] = await db().query(`SELECT e.aggregate_type, e.family, e.user_id, e.payload, e.xid = h.xid AS same_transaction
                                      FROM event_outbox e, (SELECT xmin::text::xid8 AS xid FROM user_attachment WHERE id = $2) h
                                     WHERE e.event_type = 'ATTACHMENT_ADDED' AND e.aggregate_id = $1`, [patron, a.id]);
  expect(event).toMatchObject({
    aggregate_type: 'USER', family: 'USER', user_id: patron, same_transaction: true,
    payload: { attachmentId: a.id, changes: [{ field: 'attachments', oldValue: null, newValue: `consent.pdf (application/pdf, ${a.sizeBytes} bytes)` }] },
  });
});

test(`an upload beyond ${MAX_PER_USER} files per user is refused with 409 CONFLICT and changes nothing`, async () => {
  const patron = await createPatron(db(), inst);
  for (let i = 0; i < MAX_PER_USER; i++) await uploaded(patron, tokens.um_att, { bytes: png() });
  const before = await written(patron);
  expect(await errorOf(await upload(patron, tokens.um_att, { bytes: png() }))).toMatchObject({ status: 409, code: 'CONFLICT', field: 'file' });
  expect(await written(patron)).toEqual(before);
});

test('DELETE removes the attachment with a history entry and an ATTACHMENT_REMOVED event', async () => {
  const patron = await createPatron(db(), inst);
  const a = await uploaded(patron, tokens.circ_att, { bytes: png(), name: 'old.png' });
  const res = await remove(a.id, tokens.circ_att);
  expect(res.status).toBe(204);
  expect((await download(a.id, tokens.um_att)).status).toBe(404);
  expect(await written(patron)).toEqual({ files: 0, history: 2, events: 2 });
  const [entry] = await db().query(`SELECT old_value, new_value, changed_by FROM history_entry WHERE user_id = $1 ORDER BY id DESC LIMIT 1`, [patron]);
  expect(entry).toEqual({ old_value: `old.png (image/png, ${a.sizeBytes} bytes)`, new_value: null, changed_by: 'circ_att' });
  expect(await errorOf(await remove(a.id, tokens.circ_att))).toMatchObject({ status: 404 });
});

test('removeAttachment removes it over GraphQL too', async () => {
  const patron = await createPatron(db(), inst);
  const a = await uploaded(patron, tokens.um_att, { bytes: png() });
  const res = await app.gql(`mutation($id: ID!) { removeAttachment(id: $id) { removedAttachmentId } }`, { id: a.id }, tokens.um_att);
  expect(res.errors).toBeUndefined();
  expect(res.data.removeAttachment).toEqual({ removedAttachmentId: a.id });
  expect((await written(patron)).files).toBe(0);
  const denied = await app.gql(`mutation($id: ID!) { removeAttachment(id: $id) { removedAttachmentId } }`, { id: a.id }, tokens.fso_att);
  expect(denied.errors![0].extensions!.code).toBe('FORBIDDEN');
});

test('R10.3 deleting a user removes its attachments', async () => {
  const patron = await createPatron(db(), inst);
  await uploaded(patron, tokens.um_att, { bytes: png() });
  const res = await app.gql(`mutation($id: ID!) { deleteUser(id: $id) { deletedUserId } }`, { id: patron }, tokens.um_att);
  expect(res.errors).toBeUndefined();
  expect((await written(patron)).files).toBe(0);
});

test('R10.3 purging a user removes its attachments and redacts their names in its history', async () => {
  const patron = await createPatron(db(), inst);
  const a = await uploaded(patron, tokens.um_att, { bytes: png(), name: 'passport-scan.png' });
  const res = await app.gql(`mutation($id: ID!) { purgeUser(id: $id) { id } }`, { id: patron }, tokens.um_att);
  expect(res.errors).toBeUndefined();
  expect((await written(patron)).files).toBe(0);
  expect((await download(a.id, tokens.um_att)).status).toBe(404);
  const leaks = await db().query(`SELECT 1 FROM history_entry WHERE user_id = $1 AND (old_value LIKE '%passport%' OR new_value LIKE '%passport%')`, [patron]);
  expect(leaks).toEqual([]);
  const eventLeaks = await db().query(`SELECT 1 FROM event_outbox WHERE aggregate_id = $1 AND payload::text LIKE '%passport%'`, [patron]);
  expect(eventLeaks).toEqual([]);
});

test('a users page asking for attachments reads them in one statement for the page (DataLoader)', async () => {
  const patrons = [await createPatron(db(), inst, { lastName: 'Attlist A' }), await createPatron(db(), inst, { lastName: 'Attlist B' })];
  for (const p of patrons) await uploaded(p, tokens.um_att, { bytes: png() });
  const res = await app.gql(`{ users(first: 10, filter: { name: "Attlist" }) { edges { node { id attachments { fileName } } } } }`, {}, tokens.um_att);
  expect(res.errors).toBeUndefined();
  expect(res.data.users.edges.map((e: any) => e.node.attachments)).toEqual([[{ fileName: 'scan.png' }], [{ fileName: 'scan.png' }]]);
});

test('a file is never readable as one\'s own record: an operator without user.read cannot list its own attachments', async () => {
  const id = await createPerson(db(), inst, { primaryIdentifier: 'cataloger_att', roles: [['CATALOGER', 'INSTITUTION']] });
  await uploaded(id, tokens.um_att, { bytes: png() });
  const token = await app.login('cataloger_att', 'correct horse battery');
  expect(await errorOf(await list(id, token))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  const gql = await app.gql(`{ me { attachments { id } } }`, {}, token);
  expect(gql.errors![0].extensions!.code).toBe('FORBIDDEN');
});

test('R11.2 a partner system\'s API key (X-API-Key) uploads, lists, downloads and deletes under its own roles', async () => {
  const created = await app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret apiKey { name } } }`,
    { in: { name: 'scanner station', roles: [{ roleType: 'CIRCULATION_DESK_OPERATOR', scope: { type: 'LIBRARY', libraryId: inst.libraries.MAIN.id } }] } }, tokens.ua_att);
  expect(created.errors).toBeUndefined();
  const key = { 'x-api-key': created.data.createApiKey.secret as string };
  const patron = await createPatron(db(), inst);
  const form = new FormData();
  form.append('file', new Blob([pdf()]), 'signed-form.pdf');
  const res = await fetch(`${base}/users/${patron}/attachments`, { method: 'POST', headers: key, body: form });
  expect(res.status).toBe(201);
  const a: any = await res.json();
  expect(a.createdBy).toBe('api-key:scanner station');
  expect(((await (await fetch(`${base}/users/${patron}/attachments`, { headers: key })).json()) as any).attachments).toHaveLength(1);
  expect((await fetch(`${base}/attachments/${a.id}`, { headers: key })).status).toBe(200);
  // A desk role reaches patrons only, for a key as for staff.
  const staff = await createPerson(db(), inst, { roles: [['CATALOGER', 'INSTITUTION']] });
  const refused = await fetch(`${base}/users/${staff}/attachments`, { method: 'POST', headers: key, body: form });
  expect(refused.status).toBe(403);
  expect((await fetch(`${base}/attachments/${a.id}`, { method: 'DELETE', headers: key })).status).toBe(204);
});

test('a vendor contact may carry files (a contract) for user managers; desk roles, patrons only, are refused', async () => {
  const contact = await createPerson(db(), inst, { recordType: 'CONTACT', withPassword: false });
  expect((await upload(contact, tokens.um_att, { bytes: pdf(), name: 'contract.pdf' })).status).toBe(201);
  expect(await errorOf(await upload(contact, tokens.circ_att, { bytes: pdf() }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
});

/** One request written by hand (a chunked or truncated body, a client that leaves mid-body): `send` writes the body. */
function rawRequest(method: string, path: string, headers: Record<string, string>, send: (req: http.ClientRequest) => void = (req) => req.end()) {
  return new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders } | 'reset'>((resolve) => {
    const url = new URL(base);
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', () => resolve('reset'));
    send(req);
  });
}
const filePartHead = (boundary: string) =>
  Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="scan.png"\r\nContent-Type: image/png\r\n\r\n`);

test('a truncated multipart body (the form ends inside the file) is 400, stores nothing, and the server keeps serving', async () => {
  const patron = await createPatron(db(), inst);
  const res = await rawRequest('POST', `/users/${patron}/attachments`, { ...auth(tokens.um_att), 'content-type': 'multipart/form-data; boundary=cut' },
    (req) => req.end(Buffer.concat([filePartHead('cut'), png()])));
  expect(res !== 'reset' && { status: res.status, ...JSON.parse(res.body).errors[0].extensions }).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
  expect(await written(patron)).toEqual({ files: 0, history: 0, events: 0 });
  expect((await uploaded(patron, tokens.um_att, { bytes: png() })).mediaType).toBe('image/png');
});

test('a client that goes away in the middle of its upload leaves nothing stored, and the server keeps serving', async () => {
  const patron = await createPatron(db(), inst);
  await rawRequest('POST', `/users/${patron}/attachments`, { ...auth(tokens.um_att), 'content-type': 'multipart/form-data; boundary=gone', 'transfer-encoding': 'chunked' },
    (req) => req.write(Buffer.concat([filePartHead('gone'), png(1000)]), () => setTimeout(() => req.destroy(), 50)));
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(await written(patron)).toEqual({ files: 0, history: 0, events: 0 });
  expect((await list(patron, tokens.um_att)).status).toBe(200);
});

test('a chunked body (no Content-Length) with a file over the limit is refused with 413 and nothing is stored', async () => {
  const patron = await createPatron(db(), inst);
  const res = await rawRequest('POST', `/users/${patron}/attachments`,
    { ...auth(tokens.um_att), 'content-type': 'multipart/form-data; boundary=big', 'transfer-encoding': 'chunked' },
    (req) => {
      req.write(filePartHead('big'));
      req.write(png(MAX_BYTES));
      req.end('\r\n--big--\r\n');
    });
  expect(res !== 'reset' && { status: res.status, ...JSON.parse(res.body).errors[0].extensions }).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  expect(await written(patron)).toEqual({ files: 0, history: 0, events: 0 });
});

test(`the per-user cap holds under a race: of ${MAX_PER_USER * 3} concurrent uploads exactly ${MAX_PER_USER} are stored, the rest 409`, async () => {
  const patron = await createPatron(db(), inst);
  const answers = await Promise.all(Array.from({ length: MAX_PER_USER * 3 }, () => upload(patron, tokens.um_att, { bytes: png() })));
  const statuses = answers.map((r) => r.status);
  expect(statuses.filter((s) => s === 201)).toHaveLength(MAX_PER_USER);
  expect(statuses.filter((s) => s === 409)).toHaveLength(MAX_PER_USER * 2);
  expect(await written(patron)).toEqual({ files: MAX_PER_USER, history: MAX_PER_USER, events: MAX_PER_USER });
});

test('other methods are 405 METHOD_NOT_ALLOWED with Allow, and change nothing', async () => {
  const patron = await createPatron(db(), inst);
  const a = await uploaded(patron, tokens.um_att, { bytes: png() });
  for (const [method, path, allow] of [['PUT', `/users/${patron}/attachments`, 'GET, POST'], ['DELETE', `/users/${patron}/attachments`, 'GET, POST'],
    ['PATCH', `/attachments/${a.id}`, 'GET, DELETE'], ['POST', `/attachments/${a.id}`, 'GET, DELETE'], ['PUT', `/attachments/${a.id}`, 'GET, DELETE']]) {
    const res = await rawRequest(method, path, auth(tokens.um_att));
    expect(res !== 'reset' && [res.status, res.headers.allow, JSON.parse(res.body).errors[0].extensions.code]).toEqual([405, allow, 'METHOD_NOT_ALLOWED']);
  }
  expect(await written(patron)).toEqual({ files: 1, history: 1, events: 1 });
});

test('path tricks: an encoded "../", a NUL byte or a zero-width space in an id is BAD_USER_INPUT naming it', async () => {
  const patron = await createPatron(db(), inst);
  const a = await uploaded(patron, tokens.um_att, { bytes: png() });
  for (const [path, field] of [['/attachments/..%2f..%2fetc%2fpasswd', 'id'], [`/attachments/${a.id}%00`, 'id'], [`/attachments/%E2%80%8B${a.id}`, 'id'],
    [`/users/${patron}%00/attachments`, 'userId'], ['/users/..%2f/attachments', 'userId']]) {
    const res = await rawRequest('GET', path, auth(tokens.um_att));
    expect(res !== 'reset' && [res.status, JSON.parse(res.body).errors[0].extensions]).toEqual([400, { code: 'BAD_USER_INPUT', field }]);
  }
  const res = await rawRequest('DELETE', `/attachments/${a.id}%00`, auth(tokens.um_att));
  expect(res !== 'reset' && res.status).toBe(400);
  expect(await written(patron)).toEqual({ files: 1, history: 1, events: 1 });
});

test('R11.2 an API key without attachment.manage is 403 and a revoked key 401: nothing is stored', async () => {
  const key = async (name: string, roleType: string) => {
    const res = await app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret apiKey { id } } }`,
      { in: { name, roles: [{ roleType, scope: { type: 'INSTITUTION' } }] } }, tokens.ua_att);
    return res.data.createApiKey as { secret: string; apiKey: { id: string } };
  };
  const patron = await createPatron(db(), inst);
  const reader = await key('reader station', 'FULFILLMENT_SERVICES_OPERATOR');
  const refused = await fetch(`${base}/users/${patron}/attachments`, { method: 'POST', headers: { 'x-api-key': reader.secret }, body: formOf(png()) });
  expect(await errorOf(refused)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  const scanner = await key('old scanner', 'USER_MANAGER');
  await app.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: scanner.apiKey.id }, tokens.ua_att);
  const revoked = await fetch(`${base}/users/${patron}/attachments`, { method: 'POST', headers: { authorization: `ApiKey ${scanner.secret}` }, body: formOf(png()) });
  expect(await errorOf(revoked)).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
  expect(await written(patron)).toEqual({ files: 0, history: 0, events: 0 });
});

test('a polyglot (a PDF that is also an HTML page) is kept as a PDF and served as an attachment no browser runs', async () => {
  const patron = await createPatron(db(), inst);
  const a = await uploaded(patron, tokens.um_att, { bytes: Buffer.from('%PDF-1.4\n<html><script>alert(document.cookie)</script></html>'), name: 'page.html', type: 'text/html' });
  expect(a.mediaType).toBe('application/pdf');
  const res = await download(a.id, tokens.um_att);
  expect(Object.fromEntries(['content-type', 'content-disposition', 'x-content-type-options', 'content-security-policy'].map((h) => [h, res.headers.get(h)]))).toEqual({
    'content-type': 'application/pdf',
    'content-disposition': `attachment; filename="page.html"; filename*=UTF-8''page.html`,
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
  });
});

test('uploads held in memory at once are bounded: beyond the room an upload is 429 with Retry-After, and the room comes back', async () => {
  const patron = await createPatron(db(), inst);
  // A chunked upload reserves the room of the largest file; eight of them fill it while they keep sending.
  const pending: http.ClientRequest[] = [];
  const answers = Array.from({ length: 8 }, () => rawRequest('POST', `/users/${patron}/attachments`,
    { ...auth(tokens.um_att), 'content-type': 'multipart/form-data; boundary=slow', 'transfer-encoding': 'chunked' },
    (req) => { pending.push(req); req.write(filePartHead('slow')); }));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const refused = await upload(patron, tokens.um_att, { bytes: png() });
  expect(refused.headers.get('retry-after')).toBe('1');
  expect(await errorOf(refused)).toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS', retryAfterSeconds: 1 });
  for (const req of pending) req.destroy();
  await Promise.all(answers);
  let accepted = 0;
  for (let i = 0; i < 20 && accepted !== 201; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    accepted = (await upload(patron, tokens.um_att, { bytes: png() })).status;
  }
  expect(accepted).toBe(201);
  expect(await written(patron)).toEqual({ files: 1, history: 1, events: 1 });
});

test('a large form field beside the file (512 KiB, cut to 1 KiB in memory) is ignored: the file alone is stored', async () => {
  const patron = await createPatron(db(), inst);
  const res = await rawRequest('POST', `/users/${patron}/attachments`,
    { ...auth(tokens.um_att), 'content-type': 'multipart/form-data; boundary=fields', 'transfer-encoding': 'chunked' },
    (req) => {
      req.write(`--fields\r\nContent-Disposition: form-data; name="comment"\r\n\r\n${'x'.repeat(512 * 1024)}\r\n`);
      req.write(filePartHead('fields'));
      req.end(Buffer.concat([png(), Buffer.from('\r\n--fields--\r\n')]));
    });
  expect(res !== 'reset' && res.status).toBe(201);
  expect(await written(patron)).toEqual({ files: 1, history: 1, events: 1 });
});

test('two DELETEs of one attachment at once: one 204, the other 404, and one history entry and event for the removal', async () => {
  const patron = await createPatron(db(), inst);
  const a = await uploaded(patron, tokens.um_att, { bytes: png() });
  const statuses = (await Promise.all([remove(a.id, tokens.um_att), remove(a.id, tokens.ua_att)])).map((r) => r.status).sort();
  expect(statuses).toEqual([204, 404]);
  expect(await written(patron)).toEqual({ files: 0, history: 2, events: 2 });
});

test('NOT_FOUND names the id it could not find: an attachment or user of another institution as an unknown one', async () => {
  const patron = await createPatron(db(), inst);
  const a = await uploaded(patron, tokens.um_att, { bytes: png() });
  for (const [res, field] of [[await download(a.id, tokens.um_other_att), 'id'], [await remove(a.id, tokens.um_other_att), 'id'],
    [await list(patron, tokens.um_other_att), 'userId'], [await download(crypto.randomUUID(), tokens.um_att), 'id'],
    [await list(crypto.randomUUID(), tokens.um_att), 'userId']] as const) {
    expect(await errorOf(res)).toEqual({ status: 404, code: 'NOT_FOUND', field, message: expect.stringMatching(/^No such (attachment|user) in your institution$/) });
  }
  expect(await written(patron)).toEqual({ files: 1, history: 1, events: 1 });
});
