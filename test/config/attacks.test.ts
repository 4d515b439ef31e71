import { configProblems, printableConfig } from '../../src/config';
import { redactedUrl } from '../../src/config/redacted-url';
import { carrelEnv, MAIN_FROM_SOURCE, runToExit } from '../support/carrel-process';

/**
 * Issue 15 item 4 under attack: a secret given in a shape the configuration refuses must not come back in the
 * refusal, in --print-config, or in the failed-to-start line a log collector keeps.
 */
const SECRET = 'Db-Password-Zq83-never-shown';

test.each([
  ['a keyword/value string', `host=db.example port=5432 password=${SECRET}`],
  ['a URL with a port that is not a number', `postgres://carrel:${SECRET}@db.example:port/carrel`],
  ['another scheme', `mysql://carrel:${SECRET}@db.example/carrel`],
  ['the password alone', SECRET],
])('15.4 a DATABASE_URL that is not a postgres:// URL (%s) is refused at start, and the refusal does not repeat it', (_what, value) => {
  const problems = configProblems({ DATABASE_URL: value });
  expect(problems).toEqual([expect.stringMatching(/^DATABASE_URL must be a postgres:\/\/ URL .*not repeated/)]);
  expect(JSON.stringify(problems)).not.toContain(SECRET);
  const { lines } = printableConfig({ DATABASE_URL: value });
  expect(lines.find((l) => l.startsWith('DATABASE_URL '))).toMatch(/\(invalid\)  \(set\)$/);
});

test('15.4 short or odd secrets are refused by their length, never quoted: CARREL_TOKEN_SECRET, CARREL_METRICS_TOKEN', () => {
  const problems = configProblems({ NODE_ENV: 'production', CARREL_TOKEN_SECRET: 'short-Tk-Secret', CARREL_METRICS_TOKEN: 'short-Mx\n"' });
  expect(problems).toHaveLength(2);
  expect(JSON.stringify(problems)).not.toMatch(/short-Tk-Secret|short-Mx/);
});

test('15.4 redactedUrl masks a password in the user part (one with a colon too) and in the query string', () => {
  expect(redactedUrl(`postgres://carrel:pa:${SECRET}@db.example/carrel`)).toBe('postgres://carrel:***@db.example/carrel');
  expect(redactedUrl(`postgres://carrel@db.example/carrel?sslmode=require&password=${SECRET}`)).toBe('postgres://carrel@db.example/carrel?sslmode=require&password=***');
});

test('15.4 the failed-to-start line of a DATABASE_URL that is not a URL does not quote it', async () => {
  const { code, output } = await runToExit(MAIN_FROM_SOURCE, carrelEnv({ DATABASE_URL: `host=127.0.0.1 port=1 password=${SECRET}`, PORT: '0' }));
  expect(code).toBe(1);
  expect(output).toMatch(/failed to start: .*DATABASE_URL must be a postgres:\/\/ URL/);
  expect(output).not.toContain(SECRET);
});

test('15.4 the failed-to-start line masks a password in DATABASE_URL\'s query string, or one with a colon', async () => {
  for (const url of [`postgres://postgres@127.0.0.1:1/test?password=${SECRET}`, `postgres://u:pa:${SECRET}@127.0.0.1:1/test`]) {
    const { code, output } = await runToExit(MAIN_FROM_SOURCE, carrelEnv({ DATABASE_URL: url, PORT: '0' }));
    expect(code).toBe(1);
    expect(output).toMatch(/failed to start: cannot connect to postgres:\/\/.*127\.0\.0\.1:1\/test/);
    expect(output).not.toContain(SECRET);
  }
});
