import 'reflect-metadata';
import { startTestApp } from '../support/test-app';
import { createFuzzer, formatProblems } from './property';

/**
 * `npm run fuzz -- --minutes N [--seed S] [--stop]`: the fuzz property of
 * test/fuzz/schema-fuzz.test.ts for N minutes against a fresh database (the
 * embedded server, or TEST_DATABASE_URL). By default it goes on after a
 * problem and lists every distinct one at the end, with the shortest case
 * that showed it; --stop ends at the first and shrinks it to a minimal case.
 * The seed is printed first, so any run can be replayed.
 */

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  const minutes = Number(option('minutes') ?? 5);
  const seed = Number(option('seed') ?? Date.now() % 2 ** 31);
  const stop = process.argv.includes('--stop');
  if (!Number.isFinite(minutes) || minutes <= 0 || !Number.isInteger(seed)) throw new Error('usage: npm run fuzz -- --minutes N [--seed S] [--stop]');
  // The test suite's set-up starts the embedded PostgreSQL unless TEST_DATABASE_URL names a server.
  const { default: setup } = await import('../support/global-setup.mjs' as string);
  const { default: teardown } = await import('../support/global-teardown.mjs' as string);
  await setup();
  // No periodic jobs: the fuzz registers webhooks at generated URLs, which the delivery worker would call.
  const app = await startTestApp({ jobs: false });
  try {
    console.log(`[fuzz] seed ${seed}, ${minutes} minute(s)${stop ? ', stopping at the first problem' : ''}; replay with --seed ${seed}`);
    const fuzzer = await createFuzzer(app);
    const started = Date.now();
    const result = await fuzzer.run({ seed, numRuns: Number.MAX_SAFE_INTEGER, timeLimitMs: minutes * 60_000, collect: !stop });
    console.log(`[fuzz] ${result.runs} cases in ${Math.round((Date.now() - started) / 1000)} s, seed ${seed}; outcomes ${JSON.stringify(result.outcomes)}`);
    if (result.lostOperators.length > 0) console.log(`[fuzz] operators that lost their sessions for good: ${result.lostOperators.join(', ')}`);
    if (result.problems.length === 0) {
      console.log('[fuzz] no problem found');
      return 0;
    }
    console.log(`[fuzz] ${result.problems.length} distinct problem(s):\n\n${formatProblems(result.problems)}`);
    return 1;
  } catch (e) {
    console.error(`[fuzz] ${(e as Error).message}`);
    return 1;
  } finally {
    await app.close();
    await teardown();
  }
}

main().then((code) => process.exit(code));
