import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import jwt from 'jsonwebtoken';

/**
 * Bearer tokens: HS256 JWTs carrying the user id and the user's sessions
 * epoch when the token was signed (sessions.repository.ts), so ending the
 * user's sessions revokes every earlier token.
 */
export interface TokenClaims {
  sub: string;
  /** app_user.sessions_valid_after in epoch ms when the token was signed, 0 when never set. */
  sva: number;
}

export interface TokenIssuer {
  sign(claims: TokenClaims): { token: string; expiresAt: Date };
  /** The claims of a valid token, with when it expires (epoch seconds). */
  verify(token: string): (TokenClaims & { exp: number | null }) | null;
}

/** Tokens verified already, kept until they expire: a staff frontend sends the same token with every request. */
const VERIFIED_TOKENS = 10_000;

export function createTokenIssuer(secret: string, ttlSeconds: number): TokenIssuer {
  // Given a string, jsonwebtoken first tries (and fails) to parse it as a public
  // key on every verify: about 0.3 ms a request. A secret KeyObject skips that.
  const key = crypto.createSecretKey(Buffer.from(secret, 'utf8'));
  // A token's signature and claims never change, so a verified token is verified again by looking it up (decoding two
  // JSON parts and an HMAC were 4% of a point lookup's server time); its expiry is checked on every use. Only valid
  // tokens are kept, at most VERIFIED_TOKENS, the oldest dropped first; a token without an expiry is not kept.
  const verified = new Map<string, TokenClaims & { exp: number }>();
  const verifyOnce = (token: string) => {
    try {
      const payload = jwt.verify(token, key, { algorithms: ['HS256'], issuer: 'carrel' });
      if (typeof payload === 'string' || typeof payload.sub !== 'string') return null;
      // Tokens signed before sessions_valid_after existed carry the same epoch as `pwd` (the migration copied
      // password_changed_at into the column), so they stay valid until the user's sessions are next ended.
      const sva = payload.sva ?? payload.pwd;
      return typeof sva === 'number' ? { sub: payload.sub, sva, exp: typeof payload.exp === 'number' ? payload.exp : null } : null;
    } catch {
      return null;
    }
  };
  return {
    sign(claims) {
      const token = jwt.sign(claims, key, { algorithm: 'HS256', expiresIn: ttlSeconds, issuer: 'carrel' });
      return { token, expiresAt: new Date(Date.now() + ttlSeconds * 1000) };
    },
    verify(token) {
      const known = verified.get(token);
      if (known) {
        if (known.exp > Date.now() / 1000) return known;
        verified.delete(token);
        return null;
      }
      const claims = verifyOnce(token);
      if (claims?.exp != null) {
        if (verified.size >= VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
        verified.set(token, { ...claims, exp: claims.exp });
      }
      return claims;
    },
  };
}

/** The development token secret's file in the data folder. */
export const TOKEN_SECRET_FILE = 'token-secret';

/** A new random secret: 32 bytes (MIN_TOKEN_SECRET_BYTES), as base64url text. */
export const generateTokenSecret = (): string => crypto.randomBytes(32).toString('base64url');

/**
 * CARREL_TOKEN_SECRET, or in development a random secret kept in the data folder so tokens survive restarts.
 * Production has no such fallback: instances behind one load balancer would each keep their own file and reject
 * each other's tokens (loadConfig already refuses to start without the variable).
 */
export function resolveTokenSecret(configured: string | undefined, dataDir: string, production: boolean): string {
  if (configured) return configured;
  if (production) throw new Error('CARREL_TOKEN_SECRET is required in production');
  const file = path.join(dataDir, TOKEN_SECRET_FILE);
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = generateTokenSecret();
  fs.writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
