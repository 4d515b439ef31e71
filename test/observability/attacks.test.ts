import net from 'node:net';
import { metricsAccess } from '../../src/policy/metrics-access';
import { JOB_LEASE_MS, withLease } from '../../src/db/job-lease';
import { errorFields } from '../../src/observability/logger';
import { MAX_ANONYMOUS_OPERATION_NAMES, registry } from '../../src/observability/metrics';
import { purgeLeaseName } from '../../src/lifecycle/purge-job';
import { captureLog } from '../support/log-capture';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 15 under attack: what a client without an account, an operator of another institution, or a value a client
 * chose can make Carrel's log, metrics and job leases say. One production server in this process: its metrics are
 * this process's registry, read directly.
 */
let app: TestApp;
let inst: InstitutionFixture;
let token: string;
let patronId: string;

beforeAll(async () => {
  app = await startTestApp({ production: true });
  inst = await createInstitution(app.db.dataSource, 'ATTACK');
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'attack_ua', roles: [['USER_ADMINISTRATOR', 'INSTITUTION']] });
  patronId = await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'attack_patron', recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']] });
  token = await app.login('attack_ua', PASSWORD);
});
afterAll(async () => {
  await app?.close();
});

const port = () => Number(new URL(app.url).port);

/** The label sets of one metric, as the scrape would show them. */
async function labelSets(name: string): Promise<Record<string, string | number>[]> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).map((v) => v.labels as Record<string, string | number>);
}

/** One raw HTTP/1.1 request; resolves with the status line (empty when the server closed without answering). */
function rawRequest(method: string, path = '/graphql'): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = net.connect(port(), '127.0.0.1', () => socket.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer.split('\r\n')[0]));
    socket.on('error', () => resolve(''));
  });
}

test('15.2 a method Node accepts and Carrel serves nowhere (PROPFIND, PURGE, QUERY ...) is counted as method "other"; an invented one never reaches Carrel', async () => {
  for (const method of ['PROPFIND', 'MKCOL', 'PURGE', 'QUERY', 'M-SEARCH', 'TRACE']) expect(await rawRequest(method)).toBe('HTTP/1.1 405 Method Not Allowed');
  // Node's parser refuses a method it does not know before any handler runs: no label value can be invented.
  for (const method of ['BREW', 'X-CARREL-FLOOD', 'get']) expect(await rawRequest(method)).toBe('HTTP/1.1 400 Bad Request');
  await new Promise((resolve) => setTimeout(resolve, 50));
  const methods = new Set((await labelSets('carrel_http_requests_total')).map((l) => l.method));
  expect([...methods].every((m) => ['GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS', 'other'].includes(String(m)))).toBe(true);
  expect(methods.has('other')).toBe(true);
});

test('15.2 requests without credentials claim at most MAX_ANONYMOUS_OPERATION_NAMES operation labels: an operator\'s operation first seen after their flood keeps its name', async () => {
  const flood = MAX_ANONYMOUS_OPERATION_NAMES + 20;
  for (let i = 0; i < flood; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => app.gql(`query AnonFlood${i + j} { __typename }`)));
  expect((await app.gql('query OperatorAfterFlood { me { id } }', {}, token)).errors).toBeUndefined();
  const names = (await labelSets('carrel_graphql_operations_total')).map((l) => String(l.operation));
  expect(names.filter((n) => n.startsWith('AnonFlood'))).toHaveLength(MAX_ANONYMOUS_OPERATION_NAMES);
  expect(names).toContain('(other)');
  expect(names).toContain('OperatorAfterFlood');
});

test('15.1 a value a client sent that fails a cast in the database (SQLSTATE 22P02) is not written to the log: the driver\'s message quotes it', async () => {
  // Input hygiene keeps such values from SQL; this stands for the case it misses (a trigger casting a name to uuid).
  const VALUE = 'Quoted-By-Postgres-7731';
  await app.db.dataSource.query(`CREATE FUNCTION attack_cast() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM NEW.first_name::uuid; RETURN NEW; END $$`);
  await app.db.dataSource.query(`CREATE TRIGGER attack_cast BEFORE UPDATE ON app_user FOR EACH ROW EXECUTE FUNCTION attack_cast()`);
  const log = captureLog('warn');
  try {
    const res = await app.gql(`mutation($id: ID!, $n: String!) { updateUser(id: $id, input: { firstName: $n }) { id } }`, { id: patronId, n: VALUE }, token);
    expect(res.errors?.[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    const entry = log.entries().find((e) => e.msg === 'internal error');
    // What the operator still learns: which exception, which statement, where in the code.
    expect(entry?.err).toMatchObject({ code: '22P02', query: expect.stringMatching(/UPDATE/), stack: expect.stringMatching(/\n {4}at /) });
    expect(JSON.stringify(log.entries())).not.toContain(VALUE);
  } finally {
    log.restore();
    await app.db.dataSource.query(`DROP TRIGGER attack_cast ON app_user; DROP FUNCTION attack_cast()`);
  }
});

test('15.1 errorFields keeps the message of a database error that quotes no value (a missing table), with its code', () => {
  const driver = Object.assign(new Error('relation "user_email" does not exist'), { code: '42P01' });
  const wrapped = Object.assign(new Error(driver.message), { originalError: { driverError: driver, query: 'SELECT 1 FROM user_email' } });
  expect(errorFields(wrapped)).toMatchObject({ message: 'relation "user_email" does not exist', code: '42P01', query: 'SELECT 1 FROM user_email' });
});

test('15.5 a holder whose lapsed lease another instance took over learns it through its signal, and its release leaves the new lease alone', async () => {
  const db = app.db.dataSource;
  const other = 'other-host:4242:0badc0de';
  let oldLost: AbortSignal | undefined;
  const old = await withLease(db, 'attack:takeover', 300, async (lost) => {
    oldLost = lost;
    // The holder froze past its lease and another instance took the job over (written as that instance's take would
    // leave the row: the lapsed-lease take itself is tested in test/instances/job-lease.test.ts).
    await db.query(`UPDATE job_lease SET owner = $1, taken_at = now(), lease_until = now() + interval '1 minute' WHERE name = 'attack:takeover'`, [other]);
    // Its next renewal (every 100 ms) finds another owner; waited for, not timed, so a slow machine only waits longer.
    const deadline = Date.now() + 10_000;
    while (!lost.aborted && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  });
  expect(old.ran).toBe(true);
  expect(oldLost?.aborted).toBe(true);
  expect(await db.query(`SELECT owner FROM job_lease WHERE name = 'attack:takeover' AND lease_until > now()`)).toEqual([{ owner: other }]);
});

test('15.5 a second real purge run is CONFLICT naming only when the first started, never the holder\'s host or process', async () => {
  const owner = 'db-host-7.internal.example:4242:deadbeef';
  await app.db.dataSource.query(
    `INSERT INTO job_lease (name, owner, taken_at, lease_until) VALUES ($1, $2, now(), now() + interval '1 minute')
     ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, taken_at = EXCLUDED.taken_at, lease_until = EXCLUDED.lease_until`,
    [purgeLeaseName(inst.id), owner]);
  try {
    const res = await app.gql('mutation { runPurgeJob(dryRun: false) { purged } }', {}, token);
    expect(res.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(res.errors?.[0].message).toMatch(/already running \(since \d{4}-\d\d-\d\dT/);
    expect(JSON.stringify(res)).not.toMatch(/db-host-7|4242|deadbeef/);
    expect(res.errors?.[0].message).toContain(`${JOB_LEASE_MS / 1000} s`);
    // A dry run takes no lease: it still previews.
    expect((await app.gql('mutation { runPurgeJob(dryRun: true) { purged } }', {}, token)).errors).toBeUndefined();
  } finally {
    await app.db.dataSource.query(`DELETE FROM job_lease WHERE name = $1`, [purgeLeaseName(inst.id)]);
  }
});

test('15.5 another institution\'s running purge does not block this one\'s: the lease is per institution', async () => {
  const other = await createInstitution(app.db.dataSource, 'ATTACK2');
  await app.db.dataSource.query(`INSERT INTO job_lease (name, owner, taken_at, lease_until) VALUES ($1, 'elsewhere:1:00000000', now(), now() + interval '1 minute')`,
    [purgeLeaseName(other.id)]);
  expect((await app.gql('mutation { runPurgeJob(dryRun: false) { purged } }', {}, token)).errors).toBeUndefined();
});

test('15.2 the metrics access rule is the policy module\'s: only Bearer and the exact token, whatever its case of scheme', () => {
  const allowed = metricsAccess('metrics-token-of-16-bytes');
  expect(['Bearer metrics-token-of-16-bytes', 'bearer metrics-token-of-16-bytes'].map(allowed)).toEqual([true, true]);
  expect([undefined, '', 'Bearer ', 'Bearer metrics-token-of-16-byte', 'Bearer metrics-token-of-16-bytesX', 'Basic bWV0cmljcy10b2tlbg==', 'metrics-token-of-16-bytes']
    .map(allowed)).toEqual([false, false, false, false, false, false, false]);
  expect(metricsAccess(undefined)(undefined)).toBe(true);
});
