import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import jwt from 'jsonwebtoken';

/**
 * Bearer tokens: HS256 JWTs carrying the user id and the moment its password
 * last changed, so a password change revokes every earlier token.
 */
export interface TokenClaims {
  sub: string;
  /** password_changed_at in epoch ms, 0 when never changed. */
  pwd: number;
}

export interface TokenIssuer {
  sign(claims: TokenClaims): { token: string; expiresAt: Date };
  verify(token: string): TokenClaims | null;
}

export function createTokenIssuer(secret: string, ttlSeconds: number): TokenIssuer {
  // Given a string, jsonwebtoken first tries (and fails) to parse it as a public
  // key on every verify: about 0.3 ms a request. A secret KeyObject skips that.
  const key = crypto.createSecretKey(Buffer.from(secret, 'utf8'));
  return {
    sign(claims) {
      const token = jwt.sign(claims, key, { algorithm: 'HS256', expiresIn: ttlSeconds, issuer: 'carrel' });
      return { token, expiresAt: new Date(Date.now() + ttlSeconds * 1000) };
    },
    verify(token) {
      try {
        const payload = jwt.verify(token, key, { algorithms: ['HS256'], issuer: 'carrel' });
        if (typeof payload === 'string' || typeof payload.sub !== 'string' || typeof payload.pwd !== 'number') return null;
        return { sub: payload.sub, pwd: payload.pwd };
      } catch {
        return null;
      }
    },
  };
}

/** CARREL_TOKEN_SECRET, or a random secret kept in the data folder so tokens survive restarts. */
export function resolveTokenSecret(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const file = path.join(dataDir, 'token-secret');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = crypto.randomBytes(32).toString('base64url');
  fs.writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
