import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveTokenSecret } from '../../src/auth/tokens';
import { ConfigError, loadConfig } from '../../src/config';
import { ADMIN_PASSWORD_FILE } from '../../src/seed/admin-password';
import { admin, carrelEnv, createEmptyDatabase, MAIN_FROM_SOURCE, runToExit, startCarrel } from '../support/carrel-process';

/**
 * NODE_ENV=production refuses what is only fit for trying Carrel out: a token secret that is missing, short or
 * kept per node in the data folder (instances behind one load balancer would reject each other's tokens), and demo
 * operators with a shared password nobody asked for, let alone printed into collected logs.
 */
const SECRET = 'k7Qm2xV9pL4rT8wZ1cN6bH3jF5sD0gYe'; // 32 bytes
const READY_TIMEOUT_MS = 60_000;

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-prod-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems;
  }
}

// ---------------------------------------------------------------- the configuration

describe('loadConfig', () => {
  test('production without CARREL_TOKEN_SECRET is one problem, saying what to set', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([expect.stringMatching(/^CARREL_TOKEN_SECRET is required in production: .*at least 32 bytes/)]);
  });

  test('production with a secret under 32 bytes is a problem; 32 bytes pass', () => {
    expect(problemsOf({ NODE_ENV: 'production', CARREL_TOKEN_SECRET: SECRET.slice(1) })).toEqual([
      expect.stringMatching(/^CARREL_TOKEN_SECRET must have at least 32 bytes in production, it has 31/),
    ]);
    expect(problemsOf({ NODE_ENV: 'production', CARREL_TOKEN_SECRET: SECRET })).toEqual([]);
  });

  test('every problem is listed at once: malformed numbers and flags together with the secret', () => {
    const problems = problemsOf({ NODE_ENV: 'production', CARREL_TOKEN_SECRET: 'short', PORT: 'eighty', CARREL_SEED_DEMO: 'yes' });
    expect(problems).toEqual([
      'PORT must be a non-negative integer, got "eighty"',
      'CARREL_SEED_DEMO must be true or false, got "yes"',
      expect.stringMatching(/^CARREL_TOKEN_SECRET must have at least 32 bytes/),
    ]);
  });

  test('development needs no secret and seeds the demo by default; production seeds only when CARREL_SEED_DEMO=true', () => {
    expect(loadConfig({}).seedDemo).toBe(true);
    expect(loadConfig({ CARREL_SEED_DEMO: 'false' }).seedDemo).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', CARREL_TOKEN_SECRET: SECRET }).seedDemo).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', CARREL_TOKEN_SECRET: SECRET, CARREL_SEED_DEMO: 'true' }).seedDemo).toBe(true);
  });

  test('npm run migrate and npm run seed (use "tool") sign no tokens: production needs no secret for them, but still a valid rest', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' }, 'tool')).not.toThrow();
    expect(() => loadConfig({ NODE_ENV: 'production', PORT: '-1' }, 'tool')).toThrow('invalid configuration: PORT must be a non-negative integer, got "-1"');
  });

  test('production never falls back to the token-secret file of the data folder; development keeps using it', () => {
    const dir = tempDir();
    const kept = resolveTokenSecret(undefined, dir, false);
    expect(fs.readFileSync(path.join(dir, 'token-secret'), 'utf8')).toBe(kept);
    expect(resolveTokenSecret(undefined, dir, false)).toBe(kept);
    expect(() => resolveTokenSecret(undefined, dir, true)).toThrow(/CARREL_TOKEN_SECRET is required in production/);
    expect(resolveTokenSecret(SECRET, dir, true)).toBe(SECRET);
  });
});

// ---------------------------------------------------------------- the process

test('Issue 9 finding 13: production without a token secret, or with a short one, is refused in one line listing every problem, and nothing starts', async () => {
  const db = await createEmptyDatabase('carrel_prod_refused');
  try {
    for (const [vars, expected] of [
      [{}, [/CARREL_TOKEN_SECRET is required in production/]],
      [{ CARREL_TOKEN_SECRET: 'short', PORT: 'eighty' }, [/PORT must be a non-negative integer, got "eighty"/, /CARREL_TOKEN_SECRET must have at least 32 bytes in production, it has 5/]],
    ] as const) {
      const dataDir = tempDir();
      const result = await runToExit(MAIN_FROM_SOURCE, carrelEnv({ NODE_ENV: 'production', DATABASE_URL: db.url, CARREL_DATA_DIR: dataDir, ...vars }));
      expect(result.code).toBe(1);
      const lines = result.output.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^\[carrel\] failed to start: invalid configuration: /);
      for (const problem of expected) expect(lines[0]).toMatch(problem);
      // Refused before anything ran: no per-node secret written, the database not even migrated.
      expect(fs.readdirSync(dataDir)).toEqual([]);
    }
    const [row] = await admin(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1`, [db.name]);
    expect(row.n).toBe(0);
  } finally {
    await db.drop();
  }
}, 60_000);

/** Starts production Carrel on a fresh database until it is ready, runs `check` on it, then stops it. */
async function inProduction(vars: Record<string, string>, check: (run: { output: string; dataDir: string; sql: (q: string) => Promise<any[]> }) => Promise<void>) {
  const db = await createEmptyDatabase('carrel_prod');
  const dataDir = tempDir();
  const carrel = startCarrel(MAIN_FROM_SOURCE, carrelEnv({ NODE_ENV: 'production', DATABASE_URL: db.url, CARREL_DATA_DIR: dataDir, CARREL_TOKEN_SECRET: SECRET, PORT: '0', ...vars }));
  try {
    await carrel.waitForEndpoint(READY_TIMEOUT_MS);
    const { Client } = await import('pg');
    const sql = async (q: string) => {
      const client = new Client({ connectionString: db.url });
      await client.connect();
      try {
        return (await client.query(q)).rows;
      } finally {
        await client.end();
      }
    };
    await check({ output: carrel.output(), dataDir, sql });
  } finally {
    await carrel.kill();
    await db.drop();
  }
}

test('Issue 9 finding 13: production on an empty database seeds no demo operators and prints no password', async () => {
  await inProduction({}, async ({ output, dataDir, sql }) => {
    const [counts] = await sql(`SELECT (SELECT count(*)::int FROM institution) AS institutions, (SELECT count(*)::int FROM app_user) AS users`);
    expect(counts).toEqual({ institutions: 0, users: 0 });
    expect(output).not.toMatch(/password|seeded|demo/i);
    // No per-node token secret either: the shared one from the environment is used.
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });
}, READY_TIMEOUT_MS + 30_000);

test('production with CARREL_SEED_DEMO=true seeds the demo but never prints the password: it names the file it is in', async () => {
  await inProduction({ CARREL_SEED_DEMO: 'true' }, async ({ output, dataDir, sql }) => {
    const [counts] = await sql(`SELECT (SELECT count(*)::int FROM institution) AS institutions`);
    expect(counts.institutions).toBe(1);
    const file = path.join(dataDir, ADMIN_PASSWORD_FILE);
    const password = fs.readFileSync(file, 'utf8').trim();
    expect(password.length).toBeGreaterThanOrEqual(8);
    expect(output).not.toContain(password);
    expect(output).toContain(`the demo operators share one password, which is in ${file}`);
  });
}, READY_TIMEOUT_MS + 30_000);
