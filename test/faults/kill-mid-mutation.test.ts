import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../ormconfig';
import { configureFines, givenFines, ledgerMismatches } from '../fines/fine-fixtures';
import { admin, CarrelProcess, carrelEnv, createEmptyDatabase, MAIN_FROM_SOURCE, startCarrel } from '../support/carrel-process';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';

/**
 * Fault: the server process is killed (SIGKILL: no drain, no rollback by the application) while many mutations are
 * in flight: users created with their identifiers and email, and payments of fines. Every change must be whole or
 * absent, since each mutation is one transaction: a user with all its identifiers, email, Patron role and creation
 * event; a fine whose remaining amount is the sum of its ledger actions, each payment with its event. Every change the
 * client saw acknowledged is there.
 */
let database: { name: string; url: string; drop(): Promise<void> };
let dataDir: string;
let carrel: CarrelProcess;
let db: DataSource;
let inst: InstitutionFixture;
let url: string;
let fines: string[];

beforeAll(async () => {
  database = await createEmptyDatabase('carrel_kill');
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-kill-'));
  carrel = startCarrel(MAIN_FROM_SOURCE, carrelEnv({ DATABASE_URL: database.url, PORT: '0', CARREL_DATA_DIR: dataDir, CARREL_SEED_DEMO: 'false' }));
  url = `http://127.0.0.1:${await carrel.waitForEndpoint(60_000)}/graphql`;
  // The process migrated the database; the fixtures are written directly.
  db = createDataSource(database.url, { poolSize: 2 });
  await db.initialize();
  inst = await createInstitution(db);
  await configureFines(db, inst);
  await createPerson(db, inst, { primaryIdentifier: 'killmgr', roles: [['USER_MANAGER', 'INSTITUTION']] });
  const patron = await createPerson(db, inst, { primaryIdentifier: 'debtor', recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']] });
  fines = await givenFines(db, inst, patron, 40, '50.00');
}, 90_000);

afterAll(async () => {
  await carrel?.kill();
  if (db?.isInitialized) await db.destroy();
  await database?.drop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function gql(query: string, variables: Record<string, unknown>, token?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: any[] };
}

const CREATE = `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }`;
const PAY = `mutation($id: ID!) { payFine(id: $id, input: { amount: "1.00", method: CASH }) { id } }`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

test('Fault: SIGKILL in the middle of concurrent createUser and payFine leaves every change whole or absent', async () => {
  const { data } = await gql(`mutation { login(identifier: "killmgr", password: "${PASSWORD}") { token } }`, {});
  const token: string = data.login.token;
  const created: string[] = [];
  let payments = 0;
  let cutOff = 0;
  let killed = false;
  let serial = 0;

  /** One client sending `send` again and again until the process is gone; counts what was cut off. */
  const client = async (send: () => Promise<void>) => {
    while (!killed) {
      try {
        await send();
      } catch {
        // The connection died with the process: this mutation was in flight.
        cutOff++;
      }
    }
  };
  const createUsers = () => client(async () => {
    const n = serial++;
    const res = await gql(CREATE, { input: {
      recordType: 'PUBLIC', primaryIdentifier: `killed${n}`, firstName: 'Kill', lastName: `Test${n}`,
      emails: [{ address: `killed${n}@example.edu`, type: 'PERSONAL' }],
      identifiers: [{ type: 'BARCODE', value: `KB${n}` }, { type: 'UNIV_ID', value: `KU${n}` }, { type: 'BARCODE', value: `KC${n}` }],
    } }, token);
    if (res.data?.createUser) created.push(res.data.createUser.user.id);
  });
  const payFines = (offset: number) => client(async () => {
    const res = await gql(PAY, { id: fines[(offset + payments) % fines.length] }, token);
    if (res.data?.payFine) payments++;
  });

  const load = Promise.all([createUsers(), createUsers(), createUsers(), payFines(0), payFines(13), payFines(27)]);
  // Let the load run until changes are committing steadily, then kill the whole process group at once.
  while (created.length < 10 || payments < 10) await sleep(20);
  killed = true;
  await carrel.kill();
  await load;
  expect(cutOff).toBeGreaterThan(0);

  // PostgreSQL rolls back the dead sessions' open transactions once it notices their sockets closed.
  for (let i = 0; i < 50; i++) {
    const [row] = await admin(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1`, [database.name]);
    if (row.n <= 2) break; // this test's own pool
    await sleep(100);
  }

  // Users: every one there is whole (3 identifiers, its email, the Patron role, its creation event), and every
  // acknowledged one is there.
  const users: { id: string; identifiers: number; emails: number; roles: number; events: number }[] = await db.query(
    `SELECT u.id,
            (SELECT count(*)::int FROM user_identifier i WHERE i.user_id = u.id) AS identifiers,
            (SELECT count(*)::int FROM user_email e WHERE e.user_id = u.id) AS emails,
            (SELECT count(*)::int FROM role_assignment r WHERE r.user_id = u.id AND r.role_type = 'PATRON') AS roles,
            (SELECT count(*)::int FROM event_outbox o WHERE o.aggregate_id = u.id) AS events
       FROM app_user u WHERE u.institution_id = $1 AND u.primary_identifier LIKE 'killed%'`,
    [inst.id],
  );
  expect(users.filter((u) => u.identifiers !== 3 || u.emails !== 1 || u.roles !== 1 || u.events !== 1)).toEqual([]);
  expect(users.map((u) => u.id)).toEqual(expect.arrayContaining(created));
  // No identifier or email without its user (the foreign keys would refuse one, but a half-written user would show here).
  const [strays] = await db.query(
    `SELECT (SELECT count(*)::int FROM user_identifier WHERE institution_id = $1 AND value LIKE 'K_%') AS identifiers`, [inst.id]);
  expect(strays.identifiers).toBe(users.length * 3);

  // Fines: each remaining amount is the sum of its actions (R7.7), each payment has its event, and every
  // acknowledged payment is in the ledger.
  expect(await ledgerMismatches(db, inst)).toEqual([]);
  const [ledger] = await db.query(
    `SELECT (SELECT count(*)::int FROM fine_fee_action WHERE institution_id = $1 AND action_type = 'PAY') AS pays,
            (SELECT count(*)::int FROM event_outbox WHERE institution_id = $1 AND event_type = 'FINE_PAID') AS events`,
    [inst.id],
  );
  expect(ledger.events).toBe(ledger.pays);
  expect(ledger.pays).toBeGreaterThanOrEqual(payments);
  console.log(`SIGKILL: ${users.length} users (${created.length} acknowledged), ${ledger.pays} payments (${payments} acknowledged), ${cutOff} requests cut off`);
}, 60_000);
