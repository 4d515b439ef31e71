import type { DataSource } from 'typeorm';
import { createInstitution, createPerson, InstitutionFixture, loginOperators, PersonSpec } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';

/**
 * Specification of proxies (issue 4): addProxy, removeProxy, `proxies` and
 * `proxyFor` on User, and the fulfillment proxy made by createUser (R8), with
 * who may link whom (R4.2, R4.5), isolation and history (R9.1, R11.3).
 */

let app: TestApp;
let inst: InstitutionFixture;
let other: InstitutionFixture;
let manager: string;
let circ: string;
let fso: string;
const db = (): DataSource => app.db.dataSource;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  other = await createInstitution(db(), 'ELSEWHERE');
  ({ um_proxy: manager, circ_proxy: circ, fso_proxy: fso } = await loginOperators(app, inst, {
    um_proxy: ['USER_MANAGER', 'INSTITUTION'],
    circ_proxy: ['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'],
    fso_proxy: ['FULFILLMENT_SERVICES_OPERATOR', 'MAIN'],
  }));
});
afterAll(() => app.close());

const ADD = `mutation($p: ID!, $s: ID!) {
  addProxy(proxyUserId: $p, sponsorUserId: $s) { id fulfillment createdAt proxy { id primaryIdentifier } sponsor { id primaryIdentifier } }
}`;
const REMOVE = `mutation($id: ID!) { removeProxy(id: $id) { id primaryIdentifier proxies { id } } }`;
const LINKS = `query($id: ID!) { user(id: $id) { proxies { id fulfillment proxy { id } } proxyFor { id fulfillment sponsor { id } } } }`;

let serial = 0;
const person = (spec: PersonSpec, institution = inst) => {
  serial += 1;
  return createPerson(db(), institution, { primaryIdentifier: `person${serial}`, withPassword: false, ...spec });
};
/** A patron: PUBLIC, holding the Patron role, as every patron created through the API does. */
const patron = (institution = inst) => person({ recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']] }, institution);
const pidOf = async (userId: string) => (await db().query(`SELECT primary_identifier FROM app_user WHERE id = $1`, [userId]))[0].primary_identifier;

const add = (proxy: string, sponsor: string, token = manager) => app.gql(ADD, { p: proxy, s: sponsor }, token);
const remove = (linkId: string, token = manager) => app.gql(REMOVE, { id: linkId }, token);
const linksOf = async (proxy: string) => db().query(`SELECT sponsor_user_id, is_fulfillment FROM proxy_link WHERE proxy_user_id = $1`, [proxy]);

/** A link made directly in the database, for cases the API must not be able to set up. */
async function insertLink(proxy: string, sponsor: string, fulfillment = false, institution = inst): Promise<string> {
  const [row] = await db().query(
    `INSERT INTO proxy_link (institution_id, proxy_user_id, sponsor_user_id, is_fulfillment, created_by) VALUES ($1, $2, $3, $4, 'test') RETURNING id`,
    [institution.id, proxy, sponsor, fulfillment],
  );
  return row.id;
}

async function counts(): Promise<Record<string, number>> {
  const tables = ['app_user', 'user_email', 'role_assignment', 'proxy_link', 'history_entry', 'event_outbox'];
  const [row] = await db().query(`SELECT ${tables.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`);
  return row;
}

/** Runs a request that must be refused: proves it wrote nothing and returns its one error. */
async function refused(request: () => Promise<GraphQLResponse>) {
  const before = await counts();
  const res = await request();
  expect(res.data ?? null).toBeNull();
  expect(res.errors).toHaveLength(1);
  expect(await counts()).toEqual(before);
  return res.errors![0];
}

const CREATE = `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id proxyFor { fulfillment sponsor { id } } } } }`;
function newPatron(fulfillmentProxyFor: string) {
  serial += 1;
  return {
    recordType: 'PUBLIC', primaryIdentifier: `fproxy${serial}`, firstName: 'Fay', lastName: `Proxy${serial}`,
    emails: [{ address: `fproxy${serial}@example.edu`, type: 'PERSONAL' }], fulfillmentProxyFor,
  };
}
const createUser = (input: Record<string, unknown>, token = manager) => app.gql(CREATE, { input }, token);

// --- adding and removing (R8.1) ---

test('R8.1 addProxy makes a user the proxy of a patron', async () => {
  const [proxy, sponsor] = [await patron(), await patron()];
  const res = await add(proxy, sponsor);
  expect(res.errors).toBeUndefined();
  expect(res.data.addProxy).toMatchObject({ fulfillment: false, proxy: { id: proxy }, sponsor: { id: sponsor } });
  expect(await linksOf(proxy)).toEqual([{ sponsor_user_id: sponsor, is_fulfillment: false }]);
});

test('R8.1 a staff user may be the proxy of a patron', async () => {
  const [proxy, sponsor] = [await person({ recordType: 'STAFF' }), await patron()];
  const res = await add(proxy, sponsor);
  expect(res.data?.addProxy.proxy.id).toBe(proxy);
});

test('R8.1 the link shows as proxies on the sponsor and proxyFor on the proxy', async () => {
  const [proxy, sponsor] = [await patron(), await patron()];
  const linkId = (await add(proxy, sponsor)).data.addProxy.id;
  const ofSponsor = (await app.gql(LINKS, { id: sponsor }, manager)).data.user;
  const ofProxy = (await app.gql(LINKS, { id: proxy }, manager)).data.user;
  expect(ofSponsor).toEqual({ proxies: [{ id: linkId, fulfillment: false, proxy: { id: proxy } }], proxyFor: [] });
  expect(ofProxy).toEqual({ proxies: [], proxyFor: [{ id: linkId, fulfillment: false, sponsor: { id: sponsor } }] });
});

test('R8.1 a sponsor lists each of its proxies', async () => {
  const [first, second, sponsor] = [await patron(), await patron(), await patron()];
  await add(first, sponsor);
  await add(second, sponsor);
  const proxies = (await app.gql(LINKS, { id: sponsor }, manager)).data.user.proxies;
  expect(proxies.map((p: { proxy: { id: string } }) => p.proxy.id)).toEqual([first, second]);
});

test('R8.1 removeProxy removes the link and returns the sponsor', async () => {
  const [proxy, sponsor] = [await patron(), await patron()];
  const linkId = (await add(proxy, sponsor)).data.addProxy.id;
  const res = await remove(linkId);
  expect(res.errors).toBeUndefined();
  expect(res.data.removeProxy).toEqual({ id: sponsor, primaryIdentifier: await pidOf(sponsor), proxies: [] });
  expect(await linksOf(proxy)).toEqual([]);
});

test('R8.1 a user cannot be its own proxy', async () => {
  const user = await patron();
  const error = await refused(() => add(user, user));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'proxyUserId' });
});

test('R8.1 a staff user without the Patron role cannot be a sponsor', async () => {
  const [proxy, sponsor] = [await patron(), await person({ recordType: 'STAFF' })];
  const error = await refused(() => add(proxy, sponsor));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sponsorUserId' });
  expect(error.message).toMatch(/not a patron/);
});

test('R8.1 a staff user holding the Patron role is still not a sponsor: sponsors are PUBLIC records', async () => {
  const [proxy, sponsor] = [await patron(), await person({ recordType: 'STAFF', roles: [['PATRON', 'INSTITUTION']] })];
  const error = await refused(() => add(proxy, sponsor));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sponsorUserId' });
});

test('R8.1 a PUBLIC user whose Patron role is inactive cannot be a sponsor', async () => {
  const [proxy, sponsor] = [await patron(), await patron()];
  await db().query(`UPDATE role_assignment SET is_active = false WHERE user_id = $1`, [sponsor]);
  const error = await refused(() => add(proxy, sponsor));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sponsorUserId' });
});

test('R1.1 a contact cannot be a sponsor', async () => {
  const [proxy, contact] = [await patron(), await person({ recordType: 'CONTACT' })];
  const error = await refused(() => add(proxy, contact));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sponsorUserId' });
});

test('R1.1 a contact cannot be a proxy', async () => {
  const [contact, sponsor] = [await person({ recordType: 'CONTACT' }), await patron()];
  const error = await refused(() => add(contact, sponsor));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'proxyUserId' });
});

test('R8.1 the same link twice is CONFLICT naming the sponsor, and the first link stays alone', async () => {
  const [proxy, sponsor] = [await patron(), await patron()];
  await add(proxy, sponsor);
  const error = await refused(() => add(proxy, sponsor));
  expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'sponsorUserId', value: sponsor });
  expect(await linksOf(proxy)).toHaveLength(1);
});

test('R8.1 two patrons may each be the proxy of the other', async () => {
  const [a, b] = [await patron(), await patron()];
  await add(a, b);
  const res = await add(b, a);
  expect(res.errors).toBeUndefined();
});

test('R8.1 concurrent links between the same two users, in both directions, queue instead of deadlocking', async () => {
  const pairs = await Promise.all(Array.from({ length: 4 }, async () => [await patron(), await patron()]));
  const results = await Promise.all(pairs.flatMap(([a, b]) => [add(a, b), add(b, a)]));
  expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
});

test('R8.1 the same link requested twice at once is made once; the other request is CONFLICT', async () => {
  const [proxy, sponsor] = [await patron(), await patron()];
  const results = await Promise.all([add(proxy, sponsor), add(proxy, sponsor)]);
  expect(results.map((r) => r.errors?.[0].extensions?.code ?? 'OK').sort()).toEqual(['CONFLICT', 'OK']);
  expect(await linksOf(proxy)).toHaveLength(1);
});

test('a malformed user id is BAD_USER_INPUT naming the argument', async () => {
  const user = await patron();
  expect((await refused(() => add('nope', user))).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'proxyUserId' });
  expect((await refused(() => add(user, 'nope'))).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sponsorUserId' });
});

test('a malformed link id is BAD_USER_INPUT naming id', async () => {
  const error = await refused(() => remove('nope'));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
});

test('an unknown link is NOT_FOUND', async () => {
  const error = await refused(() => remove('00000000-0000-4000-8000-000000000000'));
  expect(error.extensions?.code).toBe('NOT_FOUND');
});

// --- fulfillment proxies (R8.2) ---

test('R8.2 createUser with fulfillmentProxyFor creates the user as a fulfillment proxy of the sponsor', async () => {
  const sponsor = await patron();
  const res = await createUser(newPatron(sponsor));
  expect(res.errors).toBeUndefined();
  const user = res.data.createUser.user;
  expect(user.proxyFor).toEqual([{ fulfillment: true, sponsor: { id: sponsor } }]);
  expect(await linksOf(user.id)).toEqual([{ sponsor_user_id: sponsor, is_fulfillment: true }]);
});

test('R8.2 the fulfillment link is written in the same transaction as the user', async () => {
  const sponsor = await patron();
  const userId = (await createUser(newPatron(sponsor))).data.createUser.user.id;
  // now() is the transaction's start time: equal stamps mean one transaction.
  const [row] = await db().query(
    `SELECT u.created_at = p.created_at AS same FROM app_user u JOIN proxy_link p ON p.proxy_user_id = u.id WHERE u.id = $1`, [userId]);
  expect(row.same).toBe(true);
});

test('R8.2 createUser with a sponsor that is not a patron writes nothing at all', async () => {
  const staff = await person({ recordType: 'STAFF' });
  const input = newPatron(staff);
  const error = await refused(() => createUser(input));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.fulfillmentProxyFor' });
  expect(await db().query(`SELECT 1 FROM app_user WHERE primary_identifier = $1`, [input.primaryIdentifier])).toEqual([]);
});

test('R8.2 createUser with a contact as sponsor writes nothing at all', async () => {
  const contact = await person({ recordType: 'CONTACT' });
  const error = await refused(() => createUser(newPatron(contact)));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.fulfillmentProxyFor' });
});

test('R8.2 createUser with a sponsor of another institution is NOT_FOUND and writes nothing', async () => {
  const foreign = await patron(other);
  const error = await refused(() => createUser(newPatron(foreign)));
  expect(error.extensions?.code).toBe('NOT_FOUND');
});

test('R8.2 createUser with a malformed sponsor id is BAD_USER_INPUT naming input.fulfillmentProxyFor', async () => {
  const error = await refused(() => createUser(newPatron('not-a-uuid')));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.fulfillmentProxyFor' });
});

test('R8.2 a contact cannot be created as a fulfillment proxy', async () => {
  const sponsor = await patron();
  serial += 1;
  const contact = { recordType: 'CONTACT', lastName: `Vendor${serial}`, emails: [{ address: `v${serial}@example.com`, type: 'ORDER' }], fulfillmentProxyFor: sponsor };
  const error = await refused(() => createUser(contact));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.fulfillmentProxyFor' });
});

test('R8.2 removing a fulfillment proxy is refused and the link stays', async () => {
  const sponsor = await patron();
  const userId = (await createUser(newPatron(sponsor))).data.createUser.user.id;
  const [link] = await db().query(`SELECT id FROM proxy_link WHERE proxy_user_id = $1`, [userId]);
  const error = await refused(() => remove(link.id));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  expect(error.message).toMatch(/never be unlinked/);
  expect(await linksOf(userId)).toEqual([{ sponsor_user_id: sponsor, is_fulfillment: true }]);
});

test('R8.2 a fulfillment proxy acts for its sponsor only: it cannot be made the proxy of another patron', async () => {
  const sponsor = await patron();
  const userId = (await createUser(newPatron(sponsor))).data.createUser.user.id;
  const another = await patron();
  const error = await refused(() => add(userId, another));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'proxyUserId' });
});

test('R8.2 adding the fulfillment pair again as a plain link is CONFLICT', async () => {
  const sponsor = await patron();
  const userId = (await createUser(newPatron(sponsor))).data.createUser.user.id;
  const error = await refused(() => add(userId, sponsor));
  expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'sponsorUserId' });
});

// --- who may link whom (R4.2, R4.5) and isolation ---

test('R4.2 a circulation desk operator may link patrons', async () => {
  const [proxy, sponsor] = [await patron(), await patron()];
  const res = await add(proxy, sponsor, circ);
  expect(res.errors).toBeUndefined();
  expect((await remove(res.data.addProxy.id, circ)).data?.removeProxy.id).toBe(sponsor);
});

test('R4.2 a circulation desk operator may create a patron as a fulfillment proxy', async () => {
  const sponsor = await patron();
  const res = await createUser(newPatron(sponsor), circ);
  expect(res.data?.createUser.user.proxyFor).toEqual([{ fulfillment: true, sponsor: { id: sponsor } }]);
});

test('R4.2 a circulation desk operator manages patrons only: a staff user cannot be linked by it', async () => {
  const [proxy, sponsor] = [await person({ recordType: 'STAFF' }), await patron()];
  const error = await refused(() => add(proxy, sponsor, circ));
  expect(error.extensions?.code).toBe('FORBIDDEN');
});

test('R4.2 a Fulfillment Services Operator may not add a proxy', async () => {
  const [proxy, sponsor] = [await patron(), await patron()];
  const error = await refused(() => add(proxy, sponsor, fso));
  expect(error.extensions?.code).toBe('FORBIDDEN');
});

test('R4.2 a Fulfillment Services Operator may not remove a proxy', async () => {
  const [proxy, sponsor] = [await patron(), await patron()];
  const linkId = await insertLink(proxy, sponsor);
  const error = await refused(() => remove(linkId, fso));
  expect(error.extensions?.code).toBe('FORBIDDEN');
});

test('R4.5 a protected account cannot be made a proxy', async () => {
  const [proxy, sponsor] = [await person({ primaryIdentifier: `exl_proxy${serial}`, recordType: 'PUBLIC' }), await patron()];
  const error = await refused(() => add(proxy, sponsor));
  expect(error.extensions?.code).toBe('FORBIDDEN');
  expect(error.message).toMatch(/protected account/);
});

test('R4.5 a protected account cannot be a sponsor', async () => {
  const [proxy, sponsor] = [await patron(), await person({ primaryIdentifier: `rialto_sponsor${serial}`, recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']] })];
  const error = await refused(() => add(proxy, sponsor));
  expect(error.extensions?.code).toBe('FORBIDDEN');
  expect(error.message).toMatch(/protected account/);
});

test('R4.5 a link of a protected account cannot be removed', async () => {
  const [proxy, sponsor] = [await patron(), await person({ primaryIdentifier: 'leganto_guest', recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']] })];
  const linkId = await insertLink(proxy, sponsor);
  const error = await refused(() => remove(linkId));
  expect(error.extensions?.code).toBe('FORBIDDEN');
  expect(await linksOf(proxy)).toHaveLength(1);
});

test('R4.5 a protected sponsor cannot be given a fulfillment proxy', async () => {
  const sponsor = await person({ primaryIdentifier: `exl_fsponsor${serial}`, recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']] });
  const error = await refused(() => createUser(newPatron(sponsor)));
  expect(error.extensions?.code).toBe('FORBIDDEN');
});

test('a sponsor of another institution is NOT_FOUND', async () => {
  const [proxy, sponsor] = [await patron(), await patron(other)];
  const error = await refused(() => add(proxy, sponsor));
  expect(error.extensions?.code).toBe('NOT_FOUND');
});

test('a proxy of another institution is NOT_FOUND', async () => {
  const [proxy, sponsor] = [await patron(other), await patron()];
  const error = await refused(() => add(proxy, sponsor));
  expect(error.extensions?.code).toBe('NOT_FOUND');
});

test('a link of another institution is NOT_FOUND', async () => {
  const linkId = await insertLink(await patron(other), await patron(other), false, other);
  const error = await refused(() => remove(linkId));
  expect(error.extensions?.code).toBe('NOT_FOUND');
});

// --- history and events (R9.1, R11.3) ---

const historyOf = (userId: string) =>
  db().query(`SELECT field, old_value, new_value, changed_by FROM history_entry WHERE user_id = $1 AND field IN ('proxyFor', 'proxies') ORDER BY id`, [userId]);
const eventsOf = (userId: string) =>
  db().query(`SELECT event_type, actor, payload FROM event_outbox WHERE aggregate_id = $1 AND event_type LIKE 'PROXY_%' ORDER BY id`, [userId]);

test('R9.1 adding and removing a proxy are recorded as "proxy for" on the proxy and "proxies" on the sponsor', async () => {
  const [proxy, sponsor] = [await patron(), await patron()];
  const linkId = (await add(proxy, sponsor)).data.addProxy.id;
  await remove(linkId);
  const [proxyPid, sponsorPid] = [await pidOf(proxy), await pidOf(sponsor)];
  expect(await historyOf(proxy)).toEqual([
    { field: 'proxyFor', old_value: null, new_value: sponsorPid, changed_by: 'um_proxy' },
    { field: 'proxyFor', old_value: sponsorPid, new_value: null, changed_by: 'um_proxy' },
  ]);
  expect(await historyOf(sponsor)).toEqual([
    { field: 'proxies', old_value: null, new_value: proxyPid, changed_by: 'um_proxy' },
    { field: 'proxies', old_value: proxyPid, new_value: null, changed_by: 'um_proxy' },
  ]);
});

test('R11.3 adding and removing a proxy publish PROXY_ADDED and PROXY_REMOVED for both users', async () => {
  const [proxy, sponsor] = [await patron(), await patron()];
  const linkId = (await add(proxy, sponsor)).data.addProxy.id;
  await remove(linkId);
  const expected = (type: string) => ({
    event_type: type, actor: 'um_proxy',
    payload: expect.objectContaining({ proxyLinkId: linkId, proxyUserId: proxy, sponsorUserId: sponsor, fulfillment: false }),
  });
  expect(await eventsOf(proxy)).toEqual([expected('PROXY_ADDED'), expected('PROXY_REMOVED')]);
  expect(await eventsOf(sponsor)).toEqual([expected('PROXY_ADDED'), expected('PROXY_REMOVED')]);
});

test('R9.1 a fulfillment proxy is recorded after the user\'s creation, with a fulfillment PROXY_ADDED event', async () => {
  const sponsor = await patron();
  const input = newPatron(sponsor);
  const userId = (await createUser(input)).data.createUser.user.id;
  const entries = await db().query(`SELECT field, new_value FROM history_entry WHERE user_id = $1 ORDER BY id`, [userId]);
  expect(entries.map((e: { field: string }) => e.field)).toEqual(['record', 'proxyFor']);
  expect(entries[1].new_value).toBe(await pidOf(sponsor));
  const events = await db().query(`SELECT event_type, payload FROM event_outbox WHERE aggregate_id = $1 ORDER BY id`, [userId]);
  expect(events.map((e: { event_type: string }) => e.event_type)).toEqual(['USER_CREATED', 'PROXY_ADDED']);
  expect(events[1].payload.fulfillment).toBe(true);
  expect(await historyOf(sponsor)).toEqual([{ field: 'proxies', old_value: null, new_value: input.primaryIdentifier, changed_by: 'um_proxy' }]);
});
