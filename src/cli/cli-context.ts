import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createTokenIssuer } from '../auth/tokens';
import { buildContext, RequestContext } from '../context';

/** Where the demo seed leaves the secret of its SIS API key, next to the admin password. */
export const DEMO_SIS_KEY_FILE = 'sis-api-key.txt';

/**
 * The API key a command-line job acts as: `--api-key`, else CARREL_API_KEY,
 * else the demo SIS key the seed wrote into the data folder.
 */
export function resolveCliApiKey(explicit: string | undefined, env: NodeJS.ProcessEnv, dataDir: string): string {
  const given = explicit ?? env.CARREL_API_KEY;
  if (given) return given.trim();
  const file = path.join(dataDir, DEMO_SIS_KEY_FILE);
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  throw new Error('no API key: pass --api-key KEY or set CARREL_API_KEY (create one with the createApiKey mutation, '
    + 'e.g. with the User Manager role at the institution)');
}

/**
 * A request context for a command-line job (sis:load, purge): the job acts as
 * a partner system's API key, so the same policy, scopes and attribution
 * (`api-key:<name>` in history and events) apply as to the same request over
 * GraphQL. Command-line jobs issue no tokens: the issuer gets a throwaway secret.
 */
export async function cliContext(db: DataSource, apiKey: string): Promise<RequestContext> {
  const tokens = createTokenIssuer(randomBytes(32).toString('hex'), 60);
  const ctx = await buildContext(db, tokens, { apiKey });
  try {
    ctx.policy.authenticated();
  } catch (e) {
    throw new Error(`the API key was refused: ${(e as Error).message}`);
  }
  return ctx;
}
