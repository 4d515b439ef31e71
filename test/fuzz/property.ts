import fc from 'fast-check';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from '../../src/schema';
import type { TestApp } from '../support/test-app';
import { caseArbitrary, describeCase, FuzzCase, Problem, runCase } from './fuzz-case';
import { Snapshotter } from './snapshot';
import { buildWorld, World } from './world';

/**
 * The fuzz property, shared by the bounded run in `npm test` and the long run
 * of `npm run fuzz`: for every generated case, no INTERNAL_SERVER_ERROR, no
 * HTTP 5xx, no change after a refusal, and a server that still answers.
 */

export interface FuzzOptions {
  seed: number;
  numRuns: number;
  /** Stops generating new cases after this long (a failure found before is still shrunk and reported). */
  timeLimitMs: number;
  /** Record every distinct problem and go on, instead of stopping at the first and shrinking it. */
  collect?: boolean;
}

export interface FoundProblem extends Problem {
  /** The shortest case seen that shows it. */
  example: string;
  seen: number;
}

export interface FuzzResult {
  runs: number;
  problems: FoundProblem[];
  /** How the cases ended: `ok` or the first error's code, with counts. */
  outcomes: Record<string, number>;
  /** Staff operators whose sessions a case ended and who could not log in again (their later cases ran unauthenticated). */
  lostOperators: string[];
}

/** One line per kind of problem: the same message about another uuid or number is the same problem. */
const problemKey = (p: Problem) => `${p.field} ${p.kind} ${p.message.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<id>').replace(/\d+/g, 'N')}`;

export interface Fuzzer {
  schema: GraphQLSchema;
  world: World;
  run(options: FuzzOptions): Promise<FuzzResult>;
}

export async function createFuzzer(app: TestApp): Promise<Fuzzer> {
  const schema = buildSchema();
  const world = await buildWorld(app);
  const snapshots = new Snapshotter(app.db.dataSource);
  const lost = new Set<string>();

  async function run(options: FuzzOptions): Promise<FuzzResult> {
    const found = new Map<string, FoundProblem>();
    let runs = 0;
    const outcomes: Record<string, number> = {};
    const property = fc.asyncProperty(caseArbitrary(schema), async (c: FuzzCase) => {
      runs += 1;
      // A case may end an operator's sessions (endSessions, a password change): log them in again now and then.
      if (runs % 50 === 0) for (const identifier of await world.relogin()) lost.add(identifier);
      const { problems, outcome } = await runCase(schema, world, app.url, snapshots, c);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (problems.length === 0) return;
      const example = describeCase(schema, world, c);
      for (const p of problems) {
        const key = problemKey(p);
        const known = found.get(key);
        if (!known) found.set(key, { ...p, example, seen: 1 });
        else found.set(key, { ...known, seen: known.seen + 1, example: example.length < known.example.length ? example : known.example });
      }
      if (!options.collect) throw new Error(`${problems.map((p) => `${p.kind} in ${p.field}: ${p.message}`).join('\n')}\n${example}`);
    });
    await fc.assert(property, {
      seed: options.seed,
      numRuns: options.numRuns,
      interruptAfterTimeLimit: options.timeLimitMs,
      markInterruptAsFailure: false,
      endOnFailure: false,
    });
    return { runs, outcomes, problems: [...found.values()], lostOperators: [...lost] };
  }

  return { schema, world, run };
}

/** A report of the distinct problems, for a failure message or the console. */
export function formatProblems(problems: FoundProblem[]): string {
  return problems
    .map((p, i) => `#${i + 1} ${p.kind} in ${p.field} (seen ${p.seen}x): ${p.message}\n   ${p.example.replace(/\n/g, '\n   ')}`)
    .join('\n\n');
}
