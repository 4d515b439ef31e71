import { openOwnConnection } from '../../src/db/own-connection';
import { createTestDatabase, TestDatabase } from '../support/test-db';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

test('a job\'s own connection ended by the server while idle (a database dropped under a running fold) does not end the process', async () => {
  const client = await openOwnConnection(db.dataSource, 'carrel-test-job');
  const [{ pid }] = (await client.query('SELECT pg_backend_pid() AS pid')).rows;
  await db.dataSource.query('SELECT pg_terminate_backend($1)', [pid]);
  await new Promise((r) => setTimeout(r, 300));
  await expect(client.query('SELECT 1')).rejects.toThrow();
  await client.end().catch(() => {});
});
