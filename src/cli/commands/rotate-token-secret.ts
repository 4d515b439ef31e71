import fs from 'node:fs';
import path from 'node:path';
import { endEverySession } from '../../auth/sessions.repository';
import { generateTokenSecret, resolveTokenSecret, TOKEN_SECRET_FILE } from '../../auth/tokens';
import { loadConfig } from '../../config';
import { Database, openDatabase } from '../../db/connect';
import { cliCommand } from '../cli-command';
import { parseOptions } from '../options';

const USAGE = `usage: npm run carrel -- rotate-token-secret [--generate]
Ends every staff session, so that every token signed until now is refused by every instance at its next request
(each token carries its user's sessions epoch, which this moves for every user with a password), then:
  - without CARREL_TOKEN_SECRET (development): writes a new secret to the data folder's ${TOKEN_SECRET_FILE} file;
    restart the server to sign new tokens with it;
  - with CARREL_TOKEN_SECRET: says so; set a new value on every instance and restart them.
  --generate   also print a new random value for CARREL_TOKEN_SECRET (to stdout only; treat it as a password)
exit code: 0 when done, 1 when it failed, 2 on bad arguments`;

interface RotateArgs {
  generate: boolean;
}

function parse(argv: string[]): RotateArgs | string {
  const parsed = parseOptions(argv, { flags: ['generate'] });
  return typeof parsed === 'string' ? parsed : { generate: parsed.flags.has('generate') };
}

const users = (n: number) => `${n} ${n === 1 ? 'user' : 'users'}`;

async function rotate(args: RotateArgs): Promise<number> {
  const config = loadConfig(process.env, 'tool');
  const log = (line: string) => console.log(line);
  let db: Database | undefined;
  try {
    db = await openDatabase(config, log, 'job');
    // First the database: whatever the secret, old tokens are refused from here on, on every instance at once.
    const ended = await db.dataSource.transaction((tx) => endEverySession(tx));
    log(`ended the sessions of ${users(ended)} with a password: every token signed before now is refused; they sign in again`);
  } finally {
    await db?.close().catch(() => {});
  }
  if (config.tokenSecret) {
    log('CARREL_TOKEN_SECRET is set: give it a new value on every instance (the same on all) and restart them'
      + (args.generate ? '' : '; --generate prints a new value'));
  } else if (config.production) {
    log('CARREL_TOKEN_SECRET is not set, and production requires it: set one on every instance (--generate prints a value)');
  } else {
    const file = path.join(config.dataDir, TOKEN_SECRET_FILE);
    fs.rmSync(file, { force: true });
    resolveTokenSecret(undefined, config.dataDir, false);
    log(`wrote a new token secret to ${file}: restart the server using this data folder to sign tokens with it`);
  }
  // The value only where asked for, on stdout, never through a logger.
  if (args.generate) process.stdout.write(`new value for CARREL_TOKEN_SECRET:\n${generateTokenSecret()}\n`);
  return 0;
}

export const rotateTokenSecretCommand = cliCommand({
  name: 'rotate-token-secret',
  summary: 'end every staff session and replace the token secret',
  usage: USAGE,
  parse,
  run: rotate,
});
