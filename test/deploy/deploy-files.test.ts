import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
// Installed with the codegen tool chain (@graphql-codegen/cli depends on it): a YAML parser, not a new dependency.
import { parse as parseYaml } from 'yaml';

/**
 * What can be checked of the deployment files without a container runtime (none on the CI machines): the image's
 * user, health check and command, and that compose puts two instances sharing one secret behind the load balancer.
 */
const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions of its last stage (the image that runs), continuation lines joined. */
function runtimeStage(): Instruction[] {
  const lines = read('Dockerfile').replace(/\\\n/g, ' ').split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  const instructions = lines.map((l) => {
    const [, keyword, args] = /^\s*(\S+)\s+(.*)$/.exec(l)!;
    return { keyword: keyword.toUpperCase(), args: args.trim() };
  });
  const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM');
  return instructions.slice(lastFrom);
}

const one = (stage: Instruction[], keyword: string) => {
  const found = stage.filter((i) => i.keyword === keyword);
  expect(found).toHaveLength(1);
  return found[0].args;
};

test('15.6 the image runs Carrel as a user other than root, in production mode, on port 4000', () => {
  const stage = runtimeStage();
  const user = one(stage, 'USER');
  expect(user).not.toMatch(/^(root|0)(:|$)/);
  // USER must come before the command it is meant for.
  expect(stage.findIndex((i) => i.keyword === 'USER')).toBeLessThan(stage.findIndex((i) => i.keyword === 'CMD'));
  expect(one(stage, 'ENV')).toMatch(/\bNODE_ENV=production\b/);
  expect(one(stage, 'ENV')).toMatch(/\bPORT=4000\b/);
  expect(one(stage, 'EXPOSE')).toBe('4000');
});

test('15.6 the image starts compiled files whose sources exist', () => {
  const command: string[] = JSON.parse(one(runtimeStage(), 'CMD'));
  expect(command[0]).toBe('node');
  const started = command.filter((arg) => arg.endsWith('.js'));
  expect(started).toContain('dist/src/main.js');
  for (const file of started) expect(fs.existsSync(path.join(ROOT, file.replace(/^(\.\/)?dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
});

test('15.6 the runtime image has production dependencies only', () => {
  const dependencies = read('Dockerfile').split('\n').filter((l) => /^RUN npm ci\b/.test(l) && l.includes('--omit=dev'));
  expect(dependencies).toHaveLength(1);
  expect(runtimeStage().some((i) => i.keyword === 'RUN' && /npm (ci|install)/.test(i.args))).toBe(false);
});

describe('15.6 the image health check', () => {
  /** The HEALTHCHECK's command, run as the container would run it, against a stand-in answering `status` on `path`. */
  async function healthCheckExit(path: string, status: number): Promise<{ code: number; asked: string[] }> {
    const command: string[] = JSON.parse(one(runtimeStage(), 'HEALTHCHECK').replace(/^(--\S+\s+)*CMD\s+/, ''));
    const asked: string[] = [];
    const server = http.createServer((req, res) => {
      asked.push(req.url!);
      res.writeHead(req.url === path ? status : 404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const [program, ...args] = command;
      expect(program).toBe('node');
      const code = await promisify(execFile)(process.execPath, args, { env: { ...process.env, PORT: String(port) } }).then(
        () => 0,
        (e: { code: number }) => e.code,
      );
      return { code, asked };
    } finally {
      server.close();
    }
  }

  test('passes when /health/ready answers 200', async () => {
    expect(await healthCheckExit('/health/ready', 200)).toEqual({ code: 0, asked: ['/health/ready'] });
  });

  test('fails when /health/ready answers 503 (database unreachable or migrations pending)', async () => {
    expect((await healthCheckExit('/health/ready', 503)).code).not.toBe(0);
  });
});

describe('15.6 compose.yaml', () => {
  const compose = parseYaml(read('compose.yaml'));
  const carrel = compose.services.carrel;
  const haproxy = read('deploy/haproxy.cfg');

  test('runs two Carrel instances with one token secret from one variable, on the compose PostgreSQL', () => {
    expect(carrel.deploy.replicas).toBeGreaterThanOrEqual(2);
    // A variable, never a secret written in the file, and the same for every replica of the one service.
    expect(carrel.environment.CARREL_TOKEN_SECRET).toMatch(/^\$\{CARREL_TOKEN_SECRET:\?[^}]*\}$/);
    expect(carrel.environment.DATABASE_URL).toMatch(/@postgres:5432\//);
    expect(carrel.depends_on.postgres.condition).toBe('service_healthy');
    expect(compose.services.postgres.healthcheck.test).toContain('pg_isready');
  });

  test('puts the instances behind the load balancer, which sends traffic only to ready ones', () => {
    expect(compose.services.lb.volumes).toContain('./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
    expect(carrel.ports).toBeUndefined(); // reached through the load balancer only
    expect(haproxy).toMatch(/^\s*server-template \S+ \d+ carrel:4000$/m);
    expect(haproxy).toMatch(/^\s*http-check send meth GET uri \/health\/ready$/m);
  });

  test('trusts exactly the one proxy hop that adds X-Forwarded-For', () => {
    expect(carrel.environment.CARREL_TRUST_PROXY).toBe('1');
    expect(haproxy).toMatch(/^\s*option forwardfor$/m);
  });
});

test('15.6 the build context leaves out installed, built, local and secret files', () => {
  const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
  expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.carrel', '.git', '.env', 'test']));
});
