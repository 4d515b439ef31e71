import { GraphQLError } from 'graphql';
import { loginGuard } from '../../auth/login-guard';
import { findSignInIdentifiers } from '../../auth/operator.repository';
import { unlockUser } from '../../auth/sessions.service';
import { inputCleaner } from '../../common/input-hygiene';
import { isUuid } from '../../common/uuid';
import { loadConfig } from '../../config';
import { Database, openDatabase } from '../../db/connect';
import { buildSchema } from '../../schema';
import { getUser, getUserByIdentifier } from '../../users/user.service';
import { cliCommand } from '../cli-command';
import { commandLineContext } from '../command-line-operator';
import { chooseInstitution } from '../institution-option';
import { parseOptions } from '../options';

const USAGE = `usage: npm run carrel -- unlock-user <identifier> [--institution CODE]
Lifts a user's sign-in lockout and waits, and forgets its failed attempts (what the unlockUser mutation does, for
when no administrator can sign in to do it). Recorded as a USER_UNLOCKED event by cli:unlock-user.
  <identifier>        the user's primary identifier (any case), an additional identifier, or its user id
  --institution CODE  the user's institution (default: the only one)
exit code: 0 when unlocked, 1 when the user is not found or cannot be unlocked, 2 on bad arguments`;

interface UnlockArgs {
  identifier: string;
  institution?: string;
}

function parse(argv: string[]): UnlockArgs | string {
  const parsed = parseOptions(argv, { values: ['institution'], positionals: ['identifier'] });
  if (typeof parsed === 'string') return parsed;
  // The identifier as the API takes it: one line, at most 255 characters, no control or invisible characters.
  let identifier: string;
  try {
    identifier = (inputCleaner(buildSchema(), 'String')(parsed.positionals[0], '<identifier>') as string).trim();
  } catch (e) {
    return (e as Error).message;
  }
  return identifier ? { identifier, institution: parsed.values.institution } : '<identifier> is empty';
}

const HELD = { locked: 'it was locked', waiting: 'it was waiting after failed attempts', none: 'it was not locked' };

async function unlock(args: UnlockArgs): Promise<number> {
  const config = loadConfig(process.env, 'tool');
  const log = (line: string) => console.log(line);
  const { identifier } = args;
  let db: Database | undefined;
  try {
    db = await openDatabase(config, log, 'job');
    const institution = await chooseInstitution(db.dataSource.manager, args.institution);
    if (!institution) throw new Error('the database holds no institution');
    const ctx = commandLineContext(db.dataSource, institution, 'unlock-user');
    const user = isUuid(identifier) ? await getUser(ctx, identifier) : await getUserByIdentifier(ctx, identifier);
    if (!user) throw new Error(`no user ${JSON.stringify(identifier)} in institution ${institution.code}`);
    const held = await loginGuard(db.dataSource).holdOf(user.id, await findSignInIdentifiers(db.dataSource.manager, user.id));
    await unlockUser(ctx, user.id);
    log(`unlocked ${user.primaryIdentifier ?? '(no identifier)'} (user ${user.id}) in institution ${institution.code}: ${HELD[held ?? 'none']}`);
    return 0;
  } catch (e) {
    throw e instanceof GraphQLError ? new Error(e.message) : e;
  } finally {
    await db?.close().catch(() => {});
  }
}

export const unlockUserCommand = cliCommand({
  name: 'unlock-user',
  summary: "lift a user's sign-in lockout",
  usage: USAGE,
  parse,
  run: unlock,
});
