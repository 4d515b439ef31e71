import 'reflect-metadata';
import { loadConfig } from '../config';
import { openDatabase } from './connect';

/** `npm run migrate`: applies pending migrations (opening the database does) and exits. */
// In the chain, so that a configuration problem ends in the same one line as any other failure.
Promise.resolve()
  .then(() => openDatabase(loadConfig(process.env, 'tool'), (line) => console.log(`[carrel] ${line}`), 'job'))
  .then(async (db) => {
    console.log(`[carrel] migrations are up to date on ${db.description}`);
    await db.close();
  })
  .catch((e) => {
    console.error('[carrel] migration failed:', e instanceof Error ? e.message : e);
    process.exit(1);
  });
