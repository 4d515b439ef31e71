import { accountKey } from '../../src/auth/login-guard';
import { addressKey } from '../../src/common/client-key';
import { delayAfter } from '../../src/auth/throttle';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 9 finding 7: how sign-in attempts are keyed. Without
 * CARREL_TRUST_PROXY the client address is the socket's peer: an
 * X-Forwarded-For header cannot give each guess an address of its own.
 */
Object.assign(process.env, { CARREL_LOGIN_ADDRESS_FREE_FAILURES: '2', CARREL_TRUST_PROXY: '' });

test('an IPv4 address is its own key, also in its IPv6-mapped form', () => {
  expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
  expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
});

test('an IPv6 address is keyed by its /64 network, however it is written', () => {
  expect(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
  expect(addressKey('2001:0db8:0001:0002::1')).toBe('2001:db8:1:2::/64');
  expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
  expect(addressKey('::1')).toBe('0:0:0:0::/64');
  expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
});

test('an identifier that names no single user is keyed case-insensitively and never stored as typed', () => {
  expect(accountKey(null, 'JDoe')).toBe(accountKey(null, 'jdoe'));
  expect(accountKey(null, 'jdoe')).toMatch(/^id:[0-9a-f]{64}$/);
  expect(accountKey('00000000-0000-4000-8000-000000000001', 'jdoe')).toBe('user:00000000-0000-4000-8000-000000000001');
});

test('the wait doubles after the free failures, up to its maximum', () => {
  const rule = { free: 5, maxFailures: 10, lockoutSeconds: 60, windowSeconds: 60, delayMs: 1000, maxDelayMs: 5000 };
  expect([1, 5, 6, 7, 8, 9, 40].map((n) => delayAfter(rule, n))).toEqual([0, 0, 1000, 2000, 4000, 5000, 5000]);
});

describe('over HTTP', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  const loginFrom = async (forwardedFor: string, identifier: string) => {
    const res = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
      body: JSON.stringify({ query: `mutation($i: String!) { login(identifier: $i, password: "wrong guess") { token } }`, variables: { i: identifier } }),
    });
    return ((await res.json()) as any).errors[0];
  };

  test('Issue 9 finding 7: without CARREL_TRUST_PROXY, X-Forwarded-For is ignored: forged addresses share the real one\'s count', async () => {
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await loginFrom(`192.0.2.${i}`, `forged_${i}`)).extensions.code);
    // 2 free failures per address: the 3rd imposes a wait on 127.0.0.1, whatever the header says.
    expect(codes).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'TOO_MANY_REQUESTS']);
  });
});
