import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { printableConfig } from '../../src/config';
import { ENV_SCHEMA, metaOf } from '../../src/config/variables';
import { carrelEnv, MAIN_FROM_SOURCE, runToExit } from '../support/carrel-process';

/**
 * Issue 15 item 4: `npm start -- --print-config` shows the configuration Carrel would run with, every secret
 * masked, and exits without starting anything.
 */
jest.setTimeout(120_000);

const NAMES = Object.keys(ENV_SCHEMA.shape);
const SECRET_NAMES = NAMES.filter((name) => metaOf(ENV_SCHEMA.shape[name as keyof typeof ENV_SCHEMA.shape]).secret);
const DB_PASSWORD = 'db-password-Hx83';
const DATABASE_URL = `postgres://carrel:${DB_PASSWORD}@127.0.0.1:1/carrel`;
/** A value for each secret variable that would be recognised anywhere in the output. */
const secretValues = (): Record<string, string> =>
  Object.fromEntries(SECRET_NAMES.map((name) => [name, name === 'DATABASE_URL' ? DATABASE_URL : `value-of-${name}-that-must-stay-hidden-Wk4`]));

const lineOf = (lines: string[], name: string) => lines.find((l) => l.startsWith(`${name} `));

test('15.4 the schema marks the token secret, the metrics token, the admin password, the API key and DATABASE_URL as secrets', () => {
  expect(SECRET_NAMES.sort()).toEqual(expect.arrayContaining(['CARREL_ADMIN_PASSWORD', 'CARREL_API_KEY', 'CARREL_METRICS_TOKEN', 'CARREL_TOKEN_SECRET', 'DATABASE_URL']));
});

test('15.4 printableConfig masks every secret variable: only that it is set and its length', () => {
  const values = secretValues();
  const { lines, problems } = printableConfig({ ...values, NODE_ENV: 'production' });
  expect(problems).toEqual([]);
  const printed = lines.join('\n');
  for (const [name, value] of Object.entries(values)) {
    expect({ name, shown: printed.includes(value) }).toEqual({ name, shown: false });
    if (name !== 'DATABASE_URL') expect(lineOf(lines, name)).toMatch(new RegExp(`^${name} +\\(secret, ${Buffer.byteLength(value)} bytes\\)  \\(set\\)$`));
  }
  expect(printed).not.toContain(DB_PASSWORD);
});

test('15.4 printableConfig lists every variable once, with the value it runs with and whether it was set', () => {
  const { lines } = printableConfig({ NODE_ENV: 'production', PORT: '8080' });
  expect(lines.map((l) => l.split(' ')[0])).toEqual(NAMES);
  expect(lineOf(lines, 'PORT')).toMatch(/^PORT +8080  \(set\)$/);
  expect(lineOf(lines, 'CARREL_LOG_FORMAT')).toMatch(/^CARREL_LOG_FORMAT +json  \(default\)$/);
  expect(lineOf(lines, 'CARREL_TOKEN_SECRET')).toMatch(/^CARREL_TOKEN_SECRET +\(unset\)  \(default\)$/);
});

test('15.4 DATABASE_URL and the OTLP endpoint are shown without their password, in the user part or the query string', () => {
  const { lines } = printableConfig({
    DATABASE_URL: `postgres://carrel:${DB_PASSWORD}@db.example:5432/carrel?sslmode=require&password=${DB_PASSWORD}`,
    OTEL_EXPORTER_OTLP_ENDPOINT: 'https://tracer:otel-password-Jm5@otel.example:4318/v1',
  });
  expect(lineOf(lines, 'DATABASE_URL')).toMatch(/ postgres:\/\/carrel:\*\*\*@db\.example:5432\/carrel\?sslmode=require&password=\*\*\*  \(set\)$/);
  expect(lineOf(lines, 'OTEL_EXPORTER_OTLP_ENDPOINT')).toMatch(/ https:\/\/tracer:\*\*\*@otel\.example:4318\/v1  \(set\)$/);
  // A keyword/value connection string is not a URL: refused, and nothing of it is shown.
  const keywords = printableConfig({ DATABASE_URL: `host=db user=carrel password=${DB_PASSWORD}` }).lines;
  expect(lineOf(keywords, 'DATABASE_URL')).toMatch(/ \(invalid\)  \(set\)$/);
});

test('15.4 every query value of a URL is masked but sslmode: a collector key in the query string is a credential too', () => {
  const { lines } = printableConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example/v1?api_key=collector-key-Qr7&sslmode=require' });
  expect(lineOf(lines, 'OTEL_EXPORTER_OTLP_ENDPOINT')).toMatch(/ https:\/\/otel\.example\/v1\?api_key=\*\*\*&sslmode=require  \(set\)$/);
});

test('15.4 a variable the start refuses is shown as (invalid), not as the default it would fall back to', () => {
  const { lines, problems } = printableConfig({ PORT: 'http' });
  expect(lineOf(lines, 'PORT')).toMatch(/^PORT +\(invalid\)  \(set\)$/);
  expect(problems).toEqual(['PORT must be a non-negative integer, got "http"']);
});

test('15.4 an unknown CARREL_ variable (a misspelt one) is listed as ignored; CARREL_TEST_ variables are the tests\' own', () => {
  const { lines, problems } = printableConfig({ CARREL_LOG_LEVLE: 'debug', CARREL_TEST_ANYTHING: 'x' });
  expect(lines.filter((line) => line.includes('unknown'))).toEqual([expect.stringMatching(/^CARREL_LOG_LEVLE +\(unknown: ignored; misspelt\?\)$/)]);
  expect(problems).toEqual([]);
});

test('15.4 a value with a line break stays on its own line', () => {
  const { lines } = printableConfig({ CARREL_METRICS_HOST: '127.0.0.1\nFAKE_LINE 1' });
  expect(lines).toHaveLength(NAMES.length);
  expect(lineOf(lines, 'CARREL_METRICS_HOST')).toContain('127.0.0.1\\nFAKE_LINE 1');
});

test('15.4 printableConfig reports every problem the start would refuse, the checks across variables and for production too', () => {
  const { problems } = printableConfig({ NODE_ENV: 'production', PORT: 'http', CARREL_METRICS_TOKEN: 'short', CARREL_WEBHOOK_RETRY_BASE_MS: '100', CARREL_WEBHOOK_RETRY_MAX_MS: '10' });
  expect(problems.map((p) => p.split(' ')[0]).sort()).toEqual(['CARREL_METRICS_TOKEN', 'CARREL_TOKEN_SECRET', 'CARREL_WEBHOOK_RETRY_MAX_MS', 'PORT']);
});

test('15.4 --print-config on a real process prints the configuration and exits 0 without starting anything (no database needed)', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-print-config-'));
  try {
    // The data folder stays empty (no embedded server, no token secret written); DATABASE_URL names a closed port.
    const environments: Record<string, string>[] = [{ CARREL_DATA_DIR: dataDir }, { ...secretValues(), NODE_ENV: 'production' }];
    for (const env of environments) {
      const run = await runToExit([...MAIN_FROM_SOURCE, '--print-config'], carrelEnv(env));
      expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
      const lines = run.output.trim().split('\n');
      expect(lines.map((l) => l.split(' ')[0])).toEqual(NAMES);
      for (const value of Object.values(secretValues())) expect(run.output).not.toContain(value);
      expect(run.output).not.toContain(DB_PASSWORD);
      expect(run.output).not.toMatch(/starting Carrel|\/graphql/);
    }
    expect(fs.readdirSync(dataDir)).toEqual([]);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('15.4 --print-config with bad variables prints, then exits 1 with one "[carrel] failed to start:" line naming each', async () => {
  const run = await runToExit([...MAIN_FROM_SOURCE, '--print-config'], carrelEnv({ PORT: 'http', CARREL_LOG_LEVEL: 'loud', CARREL_METRICS_TOKEN: 'short-Pq1' }));
  expect(run.code).toBe(1);
  const failures = run.output.split('\n').filter((l) => l.includes('failed to start'));
  expect(failures).toEqual([expect.stringMatching(/^\[carrel\] failed to start: invalid configuration: PORT .*; CARREL_LOG_LEVEL .*; CARREL_METRICS_TOKEN /)]);
  expect(run.output).not.toContain('short-Pq1');
});

test('15.4 a real start with bad variables exits 1 with one "[carrel] failed to start:" line naming each, before anything else runs', async () => {
  const run = await runToExit(MAIN_FROM_SOURCE, carrelEnv({ NODE_ENV: 'production', PORT: '-1', CARREL_DB_POOL_SIZE: 'ten', DATABASE_URL }));
  expect(run.code).toBe(1);
  expect(run.output.trim().split('\n')).toEqual([
    expect.stringMatching(/^\[carrel\] failed to start: invalid configuration: PORT .*; CARREL_DB_POOL_SIZE .*; CARREL_TOKEN_SECRET is required in production/),
  ]);
  expect(run.output).not.toContain(DB_PASSWORD);
});
