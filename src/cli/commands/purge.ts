import { parseArgs, purge, purgeUsage } from '../../lifecycle/purge-cli';
import { cliCommand } from '../cli-command';

/** `npm run purge` under the operator command line: the same job, options and exit codes. */
export const purgeCommand = cliCommand({
  name: 'purge',
  summary: 'run the purge job (as `npm run purge`), acting as an API key',
  usage: purgeUsage('npm run carrel -- purge'),
  parse: parseArgs,
  run: purge,
});
