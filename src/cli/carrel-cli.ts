import 'reflect-metadata';
import { CliCommand } from './cli-command';
import { createAdminCommand } from './commands/create-admin';
import { migrateCommand } from './commands/migrate';
import { migrationsCommand } from './commands/migrations';
import { purgeCommand } from './commands/purge';
import { rotateTokenSecretCommand } from './commands/rotate-token-secret';
import { unlockUserCommand } from './commands/unlock-user';
import { runCli } from './run-cli';

/**
 * `npm run carrel -- <command> [options]`: the tasks an administrator runs on the server's machine, without Sandbox
 * or any operator to sign in as. Plain lines on stdout; `carrel <command> failed: <why>` and exit 1 on failure, the
 * usage and exit 2 on bad arguments (run-cli.ts).
 */
const COMMANDS: readonly CliCommand[] = [
  createAdminCommand, unlockUserCommand, rotateTokenSecretCommand, purgeCommand, migrationsCommand, migrateCommand,
];

const width = Math.max(...COMMANDS.map((c) => c.name.length));
const USAGE = `usage: npm run carrel -- <command> [options]
commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
npm run carrel -- <command> --help describes a command.`;

const command = COMMANDS.find((c) => c.name === process.argv[2]);
if (command) {
  command.start();
} else {
  runCli('carrel', USAGE, (argv) => (argv.length === 0 ? 'a command is needed' : `unknown command ${JSON.stringify(argv[0])}`), async () => 0);
}
