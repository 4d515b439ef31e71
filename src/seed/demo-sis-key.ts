import fs from 'node:fs/promises';
import path from 'node:path';
import { generateSecret } from '../apikeys/api-key.secret';
import { DEMO_SIS_KEY_FILE } from '../cli/cli-context';
import type { Queryable } from './insert-rows';

export const DEMO_SIS_KEY_NAME = 'Demo SIS';

/**
 * The demo's student information system: an API key holding User Manager at
 * the institution, as a partner's SIS would, so `npm run sis:load` and
 * `npm run purge` work on a fresh demo, and Fulfillment Administrator (which
 * grants only fine.export), so `npm run bursar:export -- --out FILE` does too,
 * as the issue that asked for it writes it. Its secret is written next to the
 * admin password, readable by the owner only; only its hash is stored.
 */
export async function addDemoSisKey(q: Queryable, institutionId: string, dataDir: string): Promise<void> {
  const { prefix, secret, hash } = generateSecret();
  const [key] = (await q.query(
    `INSERT INTO api_key (institution_id, name, key_prefix, secret_hash, created_by) VALUES ($1, $2, $3, $4, 'seed') RETURNING id`,
    [institutionId, DEMO_SIS_KEY_NAME, prefix, hash],
  )) as { id: string }[];
  await q.query(
    `INSERT INTO role_assignment (institution_id, api_key_id, role_type, scope_type, is_active, created_by)
     SELECT $1, $2, r, 'INSTITUTION', true, 'seed' FROM unnest(ARRAY['USER_MANAGER', 'FULFILLMENT_ADMINISTRATOR']) AS r`,
    [institutionId, key.id],
  );
  await fs.mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, DEMO_SIS_KEY_FILE);
  await fs.writeFile(file, `${secret}\n`, { mode: 0o600 });
  await fs.chmod(file, 0o600);
}
