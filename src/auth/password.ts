import crypto from 'node:crypto';
import argon2 from 'argon2';
import { loadConfig } from '../config';
import { createHashGate, HashGate } from './hash-gate';

/**
 * The argon2 parameters of every stored password hash (R1.4), pinned here
 * rather than left to the library's defaults: a library upgrade must not
 * silently weaken or change the cost of hashing. They equal argon2 0.45's
 * defaults, so hashes made before they were pinned stay valid and cost the
 * same. A hash records its own parameters, so changing these later affects
 * new hashes only (and the dummy hash, which must follow them).
 */
export const ARGON2_OPTIONS = Object.freeze({
  type: argon2.argon2id,
  memoryCost: 65536, // KiB (64 MiB)
  timeCost: 3,
  parallelism: 4,
  hashLength: 32,
});

let gate: HashGate | undefined;

/** Every argon2 call of the process goes through one gate (hash-gate.ts), sized by CARREL_HASH_CONCURRENCY and CARREL_HASH_QUEUE. */
function argon2Gate(): HashGate {
  if (!gate) {
    // 'tool': command-line jobs hash too (create-admin), and the server's own settings were checked when it started.
    const config = loadConfig(process.env, 'tool');
    gate = createHashGate(config.hashConcurrency, config.hashQueue);
  }
  return gate;
}

/** Passwords are stored only as argon2id hashes (R1.4). TOO_MANY_REQUESTS when the hash gate is full. */
export function hashPassword(plain: string): Promise<string> {
  return argon2Gate().run(() => argon2.hash(plain, { ...ARGON2_OPTIONS }));
}

/** Whether `plain` matches `hash`; false for a missing or malformed hash. TOO_MANY_REQUESTS when the hash gate is full. */
export async function verifyPassword(hash: string | null, plain: string): Promise<boolean> {
  if (!hash) return false;
  return argon2Gate().run(async () => {
    try {
      return await argon2.verify(hash, plain);
    } catch {
      return false;
    }
  });
}

let dummyHash: Promise<string> | undefined;

/**
 * A hash of random bytes nobody knows, made once (lazily) with the same
 * parameters as real hashes, so verifying against it costs what verifying a
 * real password costs. No password ever matches it.
 */
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(crypto.randomBytes(32).toString('base64')).catch((e: unknown) => {
    dummyHash = undefined;
    throw e;
  });
  return dummyHash;
}

/**
 * Checks a login's password with exactly one argon2 verification, whatever the
 * account: against its hash when it has one, otherwise (unknown identifier,
 * passwordless account, ambiguous identifier: pass null) against the dummy
 * hash, and then it is false whatever the password. A refusal therefore takes
 * as long as a wrong password, and a missing hash never lets anyone in.
 */
export async function verifyLoginPassword(hash: string | null, plain: string): Promise<boolean> {
  if (hash) return verifyPassword(hash, plain);
  await verifyPassword(await dummyPasswordHash(), plain);
  return false;
}
