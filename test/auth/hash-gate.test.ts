import { createHashGate } from '../../src/auth/hash-gate';
import { createInstitution, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 9 finding 7: argon2 runs behind a gate (one at a time here, two
 * waiting), so a flood of logins costs a bounded amount of work and other
 * requests are served meanwhile. The address limit is out of the way: the
 * flood comes from one address.
 */
Object.assign(process.env, {
  CARREL_HASH_CONCURRENCY: '1',
  CARREL_HASH_QUEUE: '2',
  CARREL_LOGIN_ADDRESS_FREE_FAILURES: '1000',
});

describe('the gate', () => {
  /** A piece of work that ends when the test says so. */
  function pending() {
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    return { work: () => done, finish };
  }

  test('Issue 9 finding 7: beyond the running and the queued, work is refused at once with TOO_MANY_REQUESTS', async () => {
    const gate = createHashGate(1, 2);
    const jobs = [pending(), pending(), pending()];
    const started: number[] = [];
    const runs = jobs.map((job, i) => gate.run(async () => { started.push(i); await job.work(); return i; }));
    await expect(gate.run(async () => 'never')).rejects.toMatchObject({ extensions: { code: 'TOO_MANY_REQUESTS', retryAfterSeconds: 1 } });
    expect(started).toEqual([0]);
    jobs[0].finish();
    await runs[0];
    expect(started).toEqual([0, 1]);
    jobs[1].finish();
    jobs[2].finish();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    // Once drained, the gate takes work again, and a failure releases its turn.
    await expect(gate.run(async () => { throw new Error('argon2 failed'); })).rejects.toThrow('argon2 failed');
    expect(await gate.run(async () => 'again')).toBe('again');
  });
});

describe('a flood of logins', () => {
  let app: TestApp;
  let token: string;
  beforeAll(async () => {
    app = await startTestApp();
    const inst = await createInstitution(app.db.dataSource);
    ({ reader: token } = await loginOperators(app, inst, { reader: ['USER_MANAGER', 'INSTITUTION'] }));
    // The dummy hash is made on the first unknown identifier: make it now, outside the flood.
    await app.gql(`mutation { login(identifier: "warm_up", password: "x") { token } }`);
  });
  afterAll(() => app.close());

  test('Issue 9 finding 7: 24 parallel logins do not hold up an authenticated query, and those beyond the queue are refused at once', async () => {
    const finished: string[] = [];
    const logins = Array.from({ length: 24 }, (_, i) =>
      app.gql(`mutation($i: String!) { login(identifier: $i, password: "wrong guess") { token } }`, { i: `flood_${i}` }).then((res) => {
        finished.push(res.errors?.[0].extensions?.code === 'TOO_MANY_REQUESTS' ? 'busy' : 'checked');
        return res;
      }));
    const me = app.gql(`{ me { id } }`, {}, token).then((res) => {
      finished.push('me');
      return res;
    });
    const [answers, mine] = await Promise.all([Promise.all(logins), me]);
    expect(mine.errors).toBeUndefined();
    const busy = answers.filter((a) => a.errors?.[0].extensions?.code === 'TOO_MANY_REQUESTS');
    const checked = answers.filter((a) => a.errors?.[0].extensions?.code === 'UNAUTHENTICATED');
    expect(busy.length + checked.length).toBe(24);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy[0].errors?.[0]).toMatchObject({
      message: 'The server is busy checking passwords: try again in a moment', extensions: { retryAfterSeconds: 1 },
    });
    // The query did not wait for the checked logins: it finished before the last of them.
    expect(finished.indexOf('me')).toBeLessThan(finished.lastIndexOf('checked'));
    // A refused login is recorded, and did not count as a failure of its identifier.
    const [row] = await app.db.dataSource.query(`SELECT count(*)::int AS n FROM login_attempt WHERE reason = 'server busy'`);
    expect(row.n).toBe(busy.length);
  });
});
