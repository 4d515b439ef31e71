import 'reflect-metadata';
import { loadConfig } from '../config';
import { openDatabase } from './connect';

/** `npm run migrate`: applies pending migrations (opening the database does) and exits. */
openDatabase(loadConfig(), (line) => console.log(`[carrel] ${line}`), 'job')
  .then(async (db) => {
    console.log(`[carrel] migrations are up to date on ${db.description}`);
    await db.close();
  })
  .catch((e) => {
    console.error('[carrel] migration failed:', e instanceof Error ? e.message : e);
    process.exit(1);
  });
