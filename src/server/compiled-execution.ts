import type { ApolloServerOptions } from '@apollo/server';
import { traceCompiledOperation } from '../observability/tracing';
import { DocumentNode, execute, ExecutionResult, getVariableValues, GraphQLError, GraphQLSchema } from 'graphql';
import { CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';

type Gateway = Extract<ApolloServerOptions<any>, { gateway: unknown }>['gateway'];
type Executor = NonNullable<Awaited<ReturnType<Gateway['load']>>['executor']>;

export interface CompileSettings {
  /** A query is compiled on its `compileAfter`-th execution; null: never (every query on graphql-js). */
  compileAfter: number | null;
  /** Compiled queries kept at once, least recently used dropped first. */
  maxCompiled: number;
}

export const DEFAULT_COMPILE_SETTINGS: CompileSettings = { compileAfter: 2, maxCompiled: 1000 };

/**
 * Executes queries with graphql-jit, which compiles a query into a JavaScript function once and then runs it: on the
 * list page graphql-js's generic execution (a path object, an argument coercion and a promise check per field and row)
 * was a sixth of the server's time. The compiled function calls the same resolvers, field guards and input hygiene
 * (every field of the schema has a resolver, policy/field-guard.ts) and serializes with the same scalars. Two
 * differences of graphql-jit are bridged here: its coercion of variables does not apply the defaults of input object
 * fields (`sort: { field: NAME }` lost its `direction: ASC`), so variables are coerced by graphql-js first, exactly as
 * before, and a refusal is graphql-js's; and its errors are not graphql 16's (no `extensions`: error codes and
 * retryable faults were lost), so each is rebuilt as graphql-js's locatedError would have made it.
 *
 * Apollo Server takes another executor only as a "gateway" (its federation hook): this one serves the local schema.
 * Only queries are compiled, and only a query seen `compileAfter` times: a one-off query runs on graphql-js rather
 * than paying a compilation (milliseconds), so a client cannot make the server compile every query it invents on
 * first sight. Mutations (serial, rare) always run on graphql-js. Compiled queries are kept per parsed document (which
 * Apollo caches by query text), at most `maxCompiled`, the least recently used dropped first.
 */
export function compiledExecution(schema: GraphQLSchema, settings: CompileSettings): Gateway {
  const uses = new WeakMap<DocumentNode, Map<string, number>>();
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  const compiled = new Map<string, CompiledQuery>();
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;

  const compiledFor = (document: DocumentNode, operationName: string | null): CompiledQuery | null => {
    if (settings.compileAfter === null) return null;
    let id = documentIds.get(document);
    if (id === undefined) documentIds.set(document, (id = nextDocumentId++));
    const key = `${id}:${operationName ?? ''}`;
    const hit = compiled.get(key);
    if (hit) {
      compiled.delete(key);
      compiled.set(key, hit);
      return hit;
    }
    let counts = uses.get(document);
    if (!counts) uses.set(document, (counts = new Map()));
    const count = (counts.get(operationName ?? '') ?? 0) + 1;
    counts.set(operationName ?? '', count);
    if (count < settings.compileAfter) return null;
    const query = compileQuery(schema, document, operationName ?? undefined, { disablingCapturingStackErrors: true });
    if (!isCompiledQuery(query)) return null;
    compiled.set(key, query);
    if (compiled.size > settings.maxCompiled) compiled.delete(compiled.keys().next().value!);
    return query;
  };

  const executor: Executor = async ({ document, operationName, operation, context, request }) => {
    const variables = request.variables ?? {};
    const query = operation.operation === 'query' ? compiledFor(document, operationName) : null;
    if (!query) return execute({ schema, document, operationName, contextValue: context, variableValues: variables }) as Promise<ExecutionResult>;
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
    if (coerced.errors) return { errors: coerced.errors };
    const result = await traceCompiledOperation(operation, () => query.query(undefined, context, coerced.coerced));
    return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
  };

  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    load: async () => ({ executor }),
    stop: async () => {},
  };
}

/** A graphql-jit error as graphql-js's locatedError makes it: the original error's extensions (its code), path, nodes. */
function asGraphQLError(error: GraphQLError): GraphQLError {
  const original = error.originalError ?? undefined;
  if (original instanceof GraphQLError && original.path) return original;
  return new GraphQLError(error.message, { nodes: error.nodes, path: error.path, originalError: original });
}
