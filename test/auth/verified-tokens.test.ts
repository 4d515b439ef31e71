import { createTokenIssuer } from '../../src/auth/tokens';

/** Issue 12: a verified token is remembered until it expires (src/auth/tokens.ts); remembering changes no answer. */

test('Issue 12: a remembered token is refused once it expires', async () => {
  const issuer = createTokenIssuer('a-secret', 1);
  const { token } = issuer.sign({ sub: 'u1', sva: 0 });
  expect(issuer.verify(token)).toMatchObject({ sub: 'u1', sva: 0 });
  expect(issuer.verify(token)).toMatchObject({ sub: 'u1', sva: 0 });
  await new Promise((r) => setTimeout(r, 2100));
  expect(issuer.verify(token)).toBeNull();
  expect(issuer.verify(token)).toBeNull();
});

test('Issue 12: a token altered after its genuine twin was remembered is refused', () => {
  const issuer = createTokenIssuer('a-secret', 3600);
  const { token } = issuer.sign({ sub: 'u1', sva: 0 });
  expect(issuer.verify(token)).not.toBeNull();
  const [header, payload, signature] = token.split('.');
  const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'admin' })).toString('base64url');
  expect(issuer.verify(`${header}.${forgedPayload}.${signature}`)).toBeNull();
  expect(issuer.verify(`${token}x`)).toBeNull();
});

test('Issue 12: a token signed with another secret is refused by an issuer that remembers tokens', () => {
  const { token } = createTokenIssuer('other-secret', 3600).sign({ sub: 'u1', sva: 0 });
  const issuer = createTokenIssuer('a-secret', 3600);
  expect(issuer.verify(token)).toBeNull();
  expect(issuer.verify(token)).toBeNull();
});
