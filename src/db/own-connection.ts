import { Client } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * A connection of its own to the database a DataSource uses, outside its
 * pool: for work that must neither wait for requests nor make them wait (the
 * instance's event reader, which also LISTENs; pruning), and that the
 * request pool's statement log does not count. The caller ends it.
 */
export async function openOwnConnection(db: DataSource, applicationName: string): Promise<Client> {
  const { url } = db.options as { url?: string };
  const client = new Client({ connectionString: url, application_name: applicationName });
  // A connection the server ends while it is idle (a database dropped or restarted under a job) emits an error that,
  // unheard, ends the process; a statement running then fails with it anyway, and that the job reports.
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** Runs statements on the connection and answers their rows, as EntityManager.query does. */
export const statementsOn = (client: Client) => ({
  query: async (text: string, params?: unknown[]): Promise<any> => (await client.query(text, params as unknown[])).rows,
});
