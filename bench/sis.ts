/**
 * `npm run bench:sis [-- --users N]` (issue 10): SIS synchronisation and the
 * purge job at scale, on a fresh database (bench/fresh-database.ts):
 *
 * 1. N generated users (default 100,000) loaded by `npm run sis:load` into an
 *    empty institution (the demo's), as its Demo SIS API key;
 * 2. the same file again: every record unchanged;
 * 3. the file with 10% of the users changed (a new last name and phone);
 * 4. the purge job over N users whose purge date has passed (bench/purge.ts).
 *
 * Each load runs the real command-line process; its own summary gives the
 * users/s (the load, without the process's start-up), SQL statements per batch
 * of 1,000 and peak memory (maxRSS). Targets on the 2-core machine: 5,000
 * users/s for the first load, 20,000 for the unchanged re-run, the purge of
 * 100,000 in 30 s.
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/connect';
import { seedDemoIfEmpty } from '../src/seed/demo-data';
import { freshDatabase } from './fresh-database';
import { benchPurge } from './purge';

const ROOT = path.resolve(__dirname, '..');
const log = (line: string) => console.log(line);

function usersArg(argv: string[]): number {
  const i = argv.findIndex((a) => a === '--users' || a.startsWith('--users='));
  if (i < 0) return 100_000;
  const value = Number(argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error('--users needs a positive integer');
  return value;
}

const GROUPS = ['UNDERGRAD', 'GRAD', 'FACULTY'];
const FIRST = ['Amara', 'Benedikt', 'Wei', 'Sofia', 'Tomás', 'Aiko', 'Kwame', 'Ingrid', 'Ravi', 'Leila', 'Mateo', 'Noor'];
const LAST = ['Okafor', 'Hoffmann', 'Chen', 'García', 'Lindqvist', 'Tanaka', 'Mensah', 'Berg', 'Iyer', 'Haddad', 'Rossi', 'Khan'];

/** The SIS's view of generated student n; `changed` gives every tenth one a new last name and phone. */
function studentRecord(n: number, changed: boolean): Record<string, unknown> {
  const moved = changed && n % 10 === 0;
  return {
    primaryIdentifier: `sis${String(n).padStart(7, '0')}`,
    firstName: FIRST[n % FIRST.length],
    lastName: moved ? `${LAST[(n * 7) % LAST.length]}-Moved` : LAST[(n * 7) % LAST.length],
    userGroup: GROUPS[n % GROUPS.length],
    campus: n % 2 === 0 ? 'NORTH' : 'SOUTH',
    expiryDate: '2030-06-30',
    purgeDate: '2031-06-30',
    identifiers: [{ type: 'UNIV_ID', value: `U${n}` }, { type: 'BARCODE', value: `39${String(n).padStart(12, '0')}` }],
    emails: [{ address: `sis${n}@example.edu`, type: 'SCHOOL' }],
    phones: [{ number: moved ? `+1 555 ${String(n % 10_000).padStart(4, '0')} 9` : `+1 555 ${String(n % 10_000).padStart(4, '0')}`, type: 'MOBILE' }],
    ...(n % 3 === 0 ? { addresses: [{ type: 'HOME', line1: `${n % 500} College Road`, city: 'Springfield', postalCode: '62701' }] } : {}),
  };
}

/** Streams N records into a JSON Lines file. */
async function writeFile(file: string, users: number, changed: boolean): Promise<void> {
  const out = fs.createWriteStream(file);
  for (let n = 1; n <= users; n++) {
    if (!out.write(`${JSON.stringify(studentRecord(n, changed))}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}

interface LoadRun {
  label: string;
  records: number;
  seconds: number;
  usersPerSecond: number;
  outcome: string;
  statementsPerBatch: number;
  peakMb: number;
}

/** Runs the loader as its own process and reads its summary. */
function runLoader(label: string, file: string, env: NodeJS.ProcessEnv): Promise<LoadRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', './bench/swc-register.js', 'src/sis/sis-load-cli.ts', file], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('exit', (code) => {
      const summary = /(\d+) records in ([\d.]+) s \((\d+) users\/s\): (.*)/.exec(output);
      const batches = /\((\d+) per batch\), peak memory (\d+) MB/.exec(output);
      if (code !== 0 || !summary || !batches) return reject(new Error(`${label}: the loader exited ${code}:\n${output}`));
      resolve({
        label, records: Number(summary[1]), seconds: Number(summary[2]), usersPerSecond: Number(summary[3]), outcome: summary[4],
        statementsPerBatch: Number(batches[1]), peakMb: Number(batches[2]),
      });
    });
  });
}

async function main(): Promise<void> {
  const users = usersArg(process.argv.slice(2));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-bench-sis-'));
  const fresh = await freshDatabase(log);
  try {
    log(`bench:sis: ${users} users on ${fresh.where}, ${os.availableParallelism()} cores`);
    const dataDir = path.join(tmp, 'data');
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: fresh.url, CARREL_DATA_DIR: dataDir };
    delete env.CARREL_API_KEY;
    const database = await openDatabase(loadConfig(env, 'tool'), () => {}, 'job');
    await seedDemoIfEmpty(database.dataSource, { dataDir, log: () => {} });
    await database.dataSource.query('VACUUM ANALYZE');
    const initial = path.join(tmp, 'users.jsonl');
    const changed = path.join(tmp, 'users-changed.jsonl');
    await writeFile(initial, users, false);
    await writeFile(changed, users, true);
    log(`files: ${(fs.statSync(initial).size / 1e6).toFixed(1)} MB each`);
    const runs = [
      await runLoader('first load (empty institution)', initial, env),
      await runLoader('same file again (all unchanged)', initial, env),
      await runLoader('10% changed', changed, env),
    ];
    const purge = await benchPurge(database.dataSource, { users });
    await database.close();

    console.log('\n| run | records | seconds | users/s | outcome | SQL statements per batch of 1,000 | loader peak memory |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of runs) console.log(`| ${r.label} | ${r.records} | ${r.seconds.toFixed(1)} | ${r.usersPerSecond} | ${r.outcome} | ${r.statementsPerBatch} | ${r.peakMb} MB |`);
    console.log(`| purge job | ${purge.due} due | ${purge.seconds.toFixed(1)} | ${purge.usersPerSecond} | ${purge.purged} purged, ${purge.skipped} skipped | ${purge.statementsPerBatch} per batch of ${Math.round(purge.due / Math.max(purge.batches, 1))} | |`);
    const verdict = (ok: boolean) => (ok ? 'pass' : 'FAIL');
    console.log(`\ntargets: first load >= 5,000 users/s: ${verdict(runs[0].usersPerSecond >= 5000)}; unchanged re-run >= 20,000 users/s: `
      + `${verdict(runs[1].usersPerSecond >= 20000)}; purge of ${purge.due} in <= 30 s: ${verdict(purge.seconds <= 30)}`);
  } finally {
    await fresh.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
