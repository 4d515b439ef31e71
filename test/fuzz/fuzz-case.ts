import { BODY_LIMIT_BYTES } from '../../src/server/http-errors';
import fc from 'fast-check';
import { astFromValue, GraphQLField, GraphQLSchema, print } from 'graphql';
import { argumentsOf, replaceNth } from './arguments';
import { selectionFor } from './selection';
import { changedTables, Snapshotter } from './snapshot';
import { Gen, wrongType } from './values';
import { OPERATORS, OperatorName, World } from './world';

/**
 * One fuzz case: a root field, its generated arguments, who asks, and whether
 * the arguments travel as variables (typed, so wrong JSON types reach
 * variable coercion) or inline as literals (so the scalars' literal parsers
 * run). `runCase` sends it over HTTP and returns what went wrong.
 */

export interface FuzzCase {
  operation: 'query' | 'mutation';
  field: string;
  operator: OperatorName;
  inline: boolean;
  args: Record<string, Gen>;
}

export interface Problem {
  /** What kind of problem, for grouping: `INTERNAL_SERVER_ERROR`, `HTTP 5xx`, `changed after refusal`, `server down`. */
  kind: string;
  field: string;
  message: string;
}

type RootField = { operation: FuzzCase['operation']; field: GraphQLField<unknown, unknown> };

export function rootFields(schema: GraphQLSchema): RootField[] {
  const fields = (operation: FuzzCase['operation'], type = operation === 'query' ? schema.getQueryType() : schema.getMutationType()) =>
    Object.values(type?.getFields() ?? {}).map((field) => ({ operation, field }));
  return [...fields('query'), ...fields('mutation')];
}

/**
 * Every root field equally likely, as any caller; its arguments in the careful
 * or the hostile style, and in one case of six one value replaced by a value
 * of the wrong type (or null where the type forbids it).
 */
export function caseArbitrary(schema: GraphQLSchema): fc.Arbitrary<FuzzCase> {
  const perField = rootFields(schema).map(({ operation, field }) =>
    fc.record({
      operation: fc.constant(operation),
      field: fc.constant(field.name),
      operator: fc.constantFrom(...OPERATORS),
      inline: fc.boolean(),
      args: fc.oneof(argumentsOf(schema, field, false), argumentsOf(schema, field, true)),
      wrong: fc.option(fc.tuple(fc.nat(), fc.oneof(wrongType, fc.constant(null))), { freq: 5 }),
    }).map(({ wrong, ...c }): FuzzCase => (wrong ? { ...c, args: replaceNth(c.args, wrong[0], wrong[1]) } : c)));
  return fc.oneof(...perField);
}

/** The request body of a case: its document and variables, with the world's rows in place of the refs. */
export function requestOf(schema: GraphQLSchema, world: World, c: FuzzCase): { query: string; variables: Record<string, unknown> } {
  const root = rootFields(schema).find((r) => r.field.name === c.field && r.operation === c.operation)!.field;
  const values = world.pools.materialise(c.args) as Record<string, unknown>;
  const declarations: string[] = [];
  const argumentsText: string[] = [];
  const variables: Record<string, unknown> = {};
  for (const arg of root.args) {
    if (!(arg.name in values)) continue;
    let literal: string | null = null;
    if (c.inline) {
      try {
        const ast = astFromValue(values[arg.name], arg.type);
        literal = ast ? print(ast) : null;
      } catch {
        literal = null; // a value the type cannot print (a wrong type, a scalar refusing it) travels as a variable instead
      }
    }
    if (literal !== null) argumentsText.push(`${arg.name}: ${literal}`);
    else {
      declarations.push(`$${arg.name}: ${arg.type}`);
      argumentsText.push(`${arg.name}: $${arg.name}`);
      variables[arg.name] = values[arg.name];
    }
  }
  const header = declarations.length > 0 ? `(${declarations.join(', ')})` : '';
  const call = argumentsText.length > 0 ? `(${argumentsText.join(', ')})` : '';
  return { query: `${c.operation} Fuzz${header} { ${c.field}${call} ${selectionFor(root.type)} }`, variables };
}

interface Answer {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[] } | null;
  text: string;
}

async function post(url: string, headers: Record<string, string>, body: unknown): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  let parsed: Answer['body'] = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: res.status, body: parsed, text };
}

/**
 * Refused: an error at the root field itself, or one without a path (the
 * request was refused before execution: validation, variables, limits). An
 * error deeper in the selection means the field ran and only a child failed.
 */
function refused(answer: Answer, field: string): boolean {
  const errors = answer.body?.errors ?? [];
  if (answer.status >= 400 && errors.length === 0) return true;
  return errors.some((e) => !Array.isArray(e.path) || (e.path.length === 1 && e.path[0] === field));
}

/** How a case ended, for the run's statistics: `ok`, or the first error's code. */
export type Outcome = string;

export async function runCase(schema: GraphQLSchema, world: World, url: string, snapshots: Snapshotter, c: FuzzCase): Promise<{ problems: Problem[]; outcome: Outcome }> {
  const problems: Problem[] = [];
  const problem = (kind: string, message: string) => problems.push({ kind, field: `${c.operation}.${c.field}`, message });
  const request = requestOf(schema, world, c);
  // Lists at their item limits can make a body of tens of MB. The server refuses anything over its body limit with a
  // 413 before reading it (test/server/errors.test.ts) and closes the connection mid-upload, which fetch reports as a
  // network error, not as the 413: such a case is a refusal known in advance, and is not sent.
  if (Buffer.byteLength(JSON.stringify(request)) > BODY_LIMIT_BYTES) return { problems, outcome: 'PAYLOAD_TOO_LARGE' };
  const before = await snapshots.take();
  const answer = await post(url, world.headers[c.operator], request);
  if (answer.status >= 500) problem(`HTTP ${answer.status}`, answer.text.slice(0, 300));
  if (answer.body === null) problem('not JSON', `HTTP ${answer.status}: ${answer.text.slice(0, 200)}`);
  for (const error of answer.body?.errors ?? []) {
    const code = error.extensions?.code;
    if (code === 'INTERNAL_SERVER_ERROR' || code === undefined) problem(String(code ?? 'no code'), error.message);
  }
  const after = await snapshots.take();
  const changed = changedTables(before, after);
  // A query never writes; a refused mutation writes nothing (history and outbox included).
  if (changed.length > 0 && (c.operation === 'query' || refused(answer, c.field))) {
    problem(c.operation === 'query' ? 'query wrote' : 'changed after refusal', `tables changed: ${changed.join(', ')}; errors: ${JSON.stringify(answer.body?.errors?.map((e) => e.message))}`);
  }
  const alive = await post(url, {}, { query: '{ __typename }' }).catch((e: Error) => ({ status: 0, body: null, text: e.message }));
  if (alive.status !== 200 || (alive.body?.data as { __typename?: string } | undefined)?.__typename !== 'Query') {
    problem('server down', `after the case, { __typename } answered HTTP ${alive.status}: ${alive.text.slice(0, 200)}`);
  }
  if (changed.length > 0) await world.pools.refresh();
  const firstError = answer.body?.errors?.[0];
  const outcome = firstError ? String(firstError.extensions?.code ?? 'no code') : answer.status === 200 ? 'ok' : `HTTP ${answer.status}`;
  return { problems, outcome };
}

/** A case as a reader wants it in a failure report: the request as sent, values shortened. */
export function describeCase(schema: GraphQLSchema, world: World, c: FuzzCase): string {
  const { query, variables } = requestOf(schema, world, c);
  const short = (value: unknown): unknown => {
    if (typeof value === 'string') return value.length > 80 ? `${JSON.stringify(value.slice(0, 20)).slice(1, -1)}… (${value.length} chars)` : value;
    if (Array.isArray(value)) return value.length > 5 ? [...value.slice(0, 3).map(short), `… (${value.length} items)`] : value.map(short);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, item]) => [k, short(item)]));
    return value;
  };
  const document = query.replace(/"(?:[^"\\]|\\.){80,}"/g, (literal) => `${literal.slice(0, 20)}…" (${literal.length} chars)`);
  return `as ${c.operator}: ${document}\nvariables: ${JSON.stringify(short(variables))}\ngenerated: ${JSON.stringify(short(c.args))}`;
}
