import { createInstitution, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 13 item 6 in production (receivers on this machine not allowed, CARREL_WEBHOOK_ALLOW_HTTP unset): only a
 * partner's https host is registered. Every form of this machine or its link (the cloud's instance metadata) is
 * refused, however it is written, so the server's own requests cannot be aimed at services only it can reach.
 */
let app: TestApp;
let inst: InstitutionFixture;
let admin: string;

beforeAll(async () => {
  app = await startTestApp({ production: true, jobs: false, webhooks: { allowHttp: false } });
  inst = await createInstitution(app.db.dataSource);
  ({ ua_prod: admin } = await loginOperators(app, inst, { ua_prod: ['USER_ADMINISTRATOR', 'INSTITUTION'] }));
});
afterAll(() => app.close());

const CREATE = `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { id url } }`;
const UPDATE = `mutation($id: ID!, $url: String!) { updateWebhook(id: $id, input: { url: $url }) { id url } }`;
const input = (url: string) => ({ url, secret: 'a partner secret of 32 characters', roles: [{ roleType: 'USER_MANAGER', scope: { type: 'INSTITUTION' } }] });
const webhookRows = async () => JSON.stringify(await app.db.dataSource.query(`SELECT id, url FROM webhook ORDER BY id`));

test.each([
  ['plain http to 127.0.0.1', 'http://127.0.0.1:8080/hook'],
  ['plain http to localhost', 'http://localhost/hook'],
  ['plain http to ::1', 'http://[::1]/hook'],
  ['https to 127.0.0.1', 'https://127.0.0.1/hook'],
  ['https to 127.0.0.1 written as one number', 'https://2130706433/hook'],
  ['https to 127.0.0.1 written in hex', 'https://0x7f.1/hook'],
  ['https to localhost with a root dot', 'https://LOCALHOST./hook'],
  ['https to ::1', 'https://[::1]/hook'],
  ['https to ::1 written out', 'https://[0:0:0:0:0:0:0:1]/hook'],
  ['https to 127.0.0.1 mapped into IPv6', 'https://[::ffff:127.0.0.1]/hook'],
  ['https to 0.0.0.0', 'https://0.0.0.0/hook'],
  ['https to ::', 'https://[::]/hook'],
  ['https to the instance metadata address', 'https://169.254.169.254/latest/meta-data/'],
  ['https to the metadata address mapped into IPv6', 'https://[::ffff:a9fe:a9fe]/latest/'],
  ['https to an IPv6 link-local address', 'https://[fe80::1]/hook'],
  ['a partner host hiding 127.0.0.1 in its user name', 'https://partner.example.edu@127.0.0.1/hook'],
])('%s is BAD_USER_INPUT naming input.url, nothing written', async (_what, url) => {
  const before = await webhookRows();
  const res = await app.gql(CREATE, { in: input(url) }, admin);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.url' });
  expect(await webhookRows()).toBe(before);
});

test('a partner\'s https host is registered, also on the campus network; changing it to this machine is refused, the URL unchanged', async () => {
  const created = await app.gql(CREATE, { in: input('https://bursar.campus.example.edu/carrel') }, admin);
  expect(created.errors).toBeUndefined();
  expect((await app.gql(CREATE, { in: input('https://10.20.30.40/carrel') }, admin)).errors).toBeUndefined();
  const { id } = created.data.createWebhook;
  const before = await webhookRows();
  const res = await app.gql(UPDATE, { id, url: 'https://127.0.0.1/carrel' }, admin);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.url' });
  expect(await webhookRows()).toBe(before);
});
