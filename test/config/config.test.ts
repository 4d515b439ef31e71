import { ConfigError, loadConfig, MIN_METRICS_TOKEN_BYTES, MIN_TOKEN_SECRET_BYTES } from '../../src/config';

/**
 * Issue 15 item 4: one schema checks every variable at start, and a failed start lists every problem at once, each
 * naming its variable, without quoting back a secret or more of a value than one line can hold.
 */
const SECRET = 'config-test-token-secret-of-at-least-32-bytes';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

test('15.4 several bad variables: every one is listed, each by its name, in one error', () => {
  const bad = {
    NODE_ENV: 'production',
    PORT: 'http',
    CARREL_DB_POOL_SIZE: '0',
    CARREL_LOG_LEVEL: 'loud',
    CARREL_SEED_DEMO: 'yes',
    CARREL_METRICS_PORT: '70000',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://collector',
    CARREL_WEBHOOK_RETRY_BASE_MS: '5000',
    CARREL_WEBHOOK_RETRY_MAX_MS: '10',
  };
  const problems = problemsOf(bad);
  const named = ['PORT', 'CARREL_DB_POOL_SIZE', 'CARREL_LOG_LEVEL', 'CARREL_SEED_DEMO', 'CARREL_METRICS_PORT', 'OTEL_EXPORTER_OTLP_ENDPOINT',
    'CARREL_WEBHOOK_RETRY_MAX_MS', 'CARREL_TOKEN_SECRET'];
  expect(problems.map((p) => p.split(' ')[0]).sort()).toEqual(named.sort());
  expect(() => loadConfig(bad)).toThrow(/^invalid configuration: .*PORT.*; .*CARREL_TOKEN_SECRET is required in production/);
});

test('15.4 a valid environment loads, with the production defaults resolved', () => {
  const config = loadConfig({ NODE_ENV: 'production', CARREL_TOKEN_SECRET: SECRET, PORT: '8080', CARREL_LOG_LEVEL: 'warn' });
  expect(config).toMatchObject({
    port: 8080, production: true, seedDemo: false,
    logging: { level: 'warn', format: 'json', sql: false },
    metrics: { token: undefined, port: 0, host: '127.0.0.1' },
    tracing: { endpoint: undefined, serviceName: 'carrel' },
  });
  expect(loadConfig({}).logging.format).toBe('pretty');
});

test('15.4 an empty variable is an unset one: its default applies', () => {
  expect(loadConfig({ PORT: '', CARREL_LOG_LEVEL: '', CARREL_METRICS_TOKEN: '' })).toMatchObject({ port: 4000, logging: { level: 'info' }, metrics: { token: undefined } });
});

test('15.4 a value with a NUL byte or other control characters is refused, and quoted back without them', () => {
  const problems = problemsOf({ PORT: '4000\u0000', CARREL_LOG_FORMAT: 'json\n[carrel] forged', CARREL_LOG_SQL: 'true\r' });
  expect(problems).toEqual([
    'PORT must be a non-negative integer, got "4000?"',
    'CARREL_LOG_FORMAT must be one of json, pretty, got "json?[carrel] forged"',
    'CARREL_LOG_SQL must be true or false, got "true?"',
  ]);
});

test('15.4 an overlong value is quoted back cut to 40 characters, so a failed start stays one short line', () => {
  const problems = problemsOf({ CARREL_LOG_LEVEL: 'x'.repeat(100_000), PORT: '9'.repeat(100_000) });
  expect(problems).toHaveLength(2);
  for (const problem of problems) expect(problem.length).toBeLessThan(160);
  expect(problems[0]).toBe(`PORT must be a non-negative integer, got "${'9'.repeat(40)}..."`);
});

test('15.4 numbers: only plain non-negative integers within their range', () => {
  for (const port of ['-1', '1e3', '0x50', '4000.5', ' 4000', '+4000', '65536', '1'.repeat(16)]) {
    expect({ port, problems: problemsOf({ PORT: port }).length }).toEqual({ port, problems: 1 });
  }
  expect(loadConfig({ PORT: '0' }).port).toBe(0);
  expect(loadConfig({ PORT: '65535' }).port).toBe(65535);
});

test('15.4 a short token secret (production) or metrics token is refused without quoting the value', () => {
  const shortSecret = 'short-secret-Tz9';
  const shortToken = 'tok-Yq4';
  const problems = problemsOf({ NODE_ENV: 'production', CARREL_TOKEN_SECRET: shortSecret, CARREL_METRICS_TOKEN: shortToken });
  expect(problems).toEqual([
    expect.stringMatching(new RegExp(`^CARREL_METRICS_TOKEN must have at least ${MIN_METRICS_TOKEN_BYTES} bytes`)),
    expect.stringMatching(new RegExp(`^CARREL_TOKEN_SECRET must have at least ${MIN_TOKEN_SECRET_BYTES} bytes in production, it has ${shortSecret.length}`)),
  ]);
  expect(problems.join('\n')).not.toContain(shortSecret);
  expect(problems.join('\n')).not.toContain(shortToken);
});

test('15.4 a malformed OTLP endpoint is refused without quoting it (it may carry credentials)', () => {
  const problems = problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318?api_key=hidden-Kq2' });
  expect(problems).toEqual([expect.stringMatching(/^OTEL_EXPORTER_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL/)]);
  expect(problems[0]).not.toContain('hidden');
});
