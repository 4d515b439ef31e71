import { Client } from 'pg';
import { createInstitution, createPerson, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 9 finding 6: request statements run under a statement_timeout (CARREL_STATEMENT_TIMEOUT_MS), so a statement
 * that runs or waits too long is cancelled by PostgreSQL instead of holding a pooled connection; the client gets a
 * retryable TIMEOUT (HTTP 503, Retry-After), never INTERNAL_SERVER_ERROR, and the change is not made.
 *
 * The slow statement is a real one: the user's row is locked by another session (as a long transaction of another
 * client would), so the update's `SELECT ... FOR UPDATE` waits until the timeout cancels it.
 */
const TIMEOUT_MS = 1000;
let app: TestApp;
let token: string;
let patron: string;

beforeAll(async () => {
  app = await startTestApp({ production: true, database: { statementTimeoutMs: TIMEOUT_MS } });
  const inst = await createInstitution(app.db.dataSource);
  await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'timeoutmgr', roles: [['USER_MANAGER', 'INSTITUTION']] });
  patron = await createPerson(app.db.dataSource, inst, { primaryIdentifier: 'slowpatron', recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']] });
  token = await app.login('timeoutmgr', PASSWORD);
});
afterAll(() => app.close());

/** Runs `work` while another session holds `lock` (SQL run inside its open transaction), then rolls that session back. */
async function whileLocked<T>(lock: string, params: unknown[], work: () => Promise<T>): Promise<T> {
  const other = new Client({ connectionString: app.db.url });
  await other.connect();
  try {
    await other.query('BEGIN');
    await other.query(lock, params);
    return await work();
  } finally {
    await other.query('ROLLBACK');
    await other.end();
  }
}

async function post(query: string, variables: Record<string, unknown>) {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() };
}

const RENAME = `mutation($id: ID!) { updateUser(id: $id, input: { firstName: "Renamed" }) { firstName } }`;

test('Issue 9 finding 6: a statement that waits past the statement timeout is a retryable TIMEOUT with HTTP 503, and changes nothing', async () => {
  const consoleError = jest.spyOn(console, 'error').mockImplementation(() => {});
  try {
    const started = Date.now();
    const answer = await whileLocked('SELECT 1 FROM app_user WHERE id = $1 FOR UPDATE', [patron], () => post(RENAME, { id: patron }));
    const elapsed = Date.now() - started;
    const body = JSON.parse(answer.text);
    expect(answer.status).toBe(503);
    expect(answer.retryAfter).toBe('1');
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].extensions).toEqual({ code: 'TIMEOUT', retryable: true });
    expect(body.errors[0].message).toMatch(/took too long.*statement timeout.*retry/);
    // Cancelled by the timeout, not after the lock went away.
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 3000);
    expect(answer.text).not.toMatch(/SELECT|FOR UPDATE|app_user|canceling statement/i);
    const [row] = await app.db.dataSource.query(`SELECT first_name FROM app_user WHERE id = $1`, [patron]);
    expect(row.first_name).toBe('Test');
  } finally {
    consoleError.mockRestore();
  }
});

test('the same request succeeds once the lock is gone: the connection went back to the pool healthy', async () => {
  const answer = await post(RENAME, { id: patron });
  expect(answer.status).toBe(200);
  expect(JSON.parse(answer.text)).toEqual({ data: { updateUser: { firstName: 'Renamed' } } });
});

test('a statement timeout while authenticating (context creation) is the same retryable TIMEOUT, not a 500', async () => {
  const consoleError = jest.spyOn(console, 'error').mockImplementation(() => {});
  try {
    // Every read of app_user waits, the operator's own included.
    const answer = await whileLocked('LOCK TABLE app_user IN ACCESS EXCLUSIVE MODE', [], () => post(`{ me { id } }`, {}));
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.text).errors[0]).toMatchObject({ extensions: { code: 'TIMEOUT', retryable: true } });
    expect(JSON.parse(answer.text).errors[0].message).not.toMatch(/Context creation failed/);
  } finally {
    consoleError.mockRestore();
  }
});
