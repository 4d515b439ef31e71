import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DEMO_OPERATORS } from './demo-operators';

export const ADMIN_PASSWORD_FILE = 'admin-password.txt';

/**
 * The password shared by the demo operators: the configured one, or a fresh
 * random one. A configured password must pass the same rule as any other
 * (R1.4), or the operator could not log in and change it later.
 */
export function chooseAdminPassword(configured: string | undefined): { password: string; generated: boolean } {
  if (configured !== undefined) {
    const problem = passwordProblem(configured);
    if (problem) throw new Error(`the configured admin password ${problem}`);
    return { password: configured, generated: false };
  }
  for (;;) {
    // 18 random bytes = 24 base64url characters, about 144 bits.
    const password = randomBytes(18).toString('base64url');
    if (!passwordProblem(password)) return { password, generated: true };
  }
}

function passwordProblem(password: string): string | undefined {
  if (password.length < 8) return 'must have at least 8 characters';
  const lower = password.toLowerCase();
  const contained = DEMO_OPERATORS.find((op) => lower.includes(op.identifier.toLowerCase()));
  if (contained) return `must not contain the user name "${contained.identifier}"`;
  return undefined;
}

/** Written where only the owner can read it, so that a generated password is not lost after the first start. */
export async function writeAdminPasswordFile(dataDir: string, password: string): Promise<string> {
  await fs.mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, ADMIN_PASSWORD_FILE);
  await fs.writeFile(file, `${password}\n`, { mode: 0o600 });
  // writeFile's mode applies only when it creates the file.
  await fs.chmod(file, 0o600);
  return file;
}
