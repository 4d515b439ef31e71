import crypto from 'node:crypto';

/**
 * API key secrets (R11.2): `carrel_<prefix>_<random>`, where the prefix (12
 * hex digits) is the public part that finds the key and the random part is
 * 32 bytes from the system's CSPRNG, base64url. Only the SHA-256 of the whole
 * secret is stored: the secret carries 256 bits of entropy, so a fast hash
 * cannot be brute-forced and, unlike a password hash (argon2), costs nothing
 * on each request.
 */
const SECRET = /^(carrel_[0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewSecret {
  /** The public start of the secret, stored in `api_key.key_prefix` and shown in lists. */
  prefix: string;
  /** The whole secret, handed to the partner system once. */
  secret: string;
  /** What is stored in `api_key.secret_hash`. */
  hash: string;
}

export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function generateSecret(): NewSecret {
  const prefix = `carrel_${crypto.randomBytes(6).toString('hex')}`;
  const secret = `${prefix}_${crypto.randomBytes(32).toString('base64url')}`;
  return { prefix, secret, hash: hashSecret(secret) };
}

/** The prefix of a well-formed secret, or null for anything else. */
export function prefixOf(secret: string): string | null {
  return SECRET.exec(secret)?.[1] ?? null;
}

/** Whether `secret` hashes to `storedHash`, compared in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(storedHash, 'hex');
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}
