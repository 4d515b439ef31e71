import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  DocumentNode, getNamedType, getNullableType, getVariableValues, GraphQLError, GraphQLSchema, isCompositeType, isListType, isObjectType, Kind,
  OperationDefinitionNode, ParseOptions, ValidationContext, ValidationRule, ValueNode, visit,
} from 'graphql';
import { ComplexityEstimatorArgs, getComplexity } from 'graphql-query-complexity';
import { tooManyRequests, secondsFrom } from '../common/too-many-requests';
import type { RequestContext } from '../context';
import type { RequestBudget } from './request-budget';

/**
 * How big a query may be. Every limit is checked before anything executes
 * (no resolver runs, no SQL is sent), and a refusal is a request error whose
 * message names the limit and whose `extensions.limit` is its maximum.
 */
export const QUERY_LIMITS = {
  /** Nesting of selections. The users list page (`users { edges { node { roles { scope { library { code } } } } } }`) is 7. */
  maxDepth: 10,
  /** Aliased fields in one operation (aliases multiply the work of one field). */
  maxAliases: 15,
  /** Directives (`@include`, `@skip` ...) in one operation. */
  maxDirectives: 20,
  /** Lexical tokens of the query text (names, punctuation, values). */
  maxTokens: 2000,
  /** Largest accepted cost; see `fieldCost`. `users(first: 100)` with the list-page fields costs about 12,000. */
  maxCost: 20_000,
  /** The size assumed for a `first` argument that is not given and has no default in the schema. */
  defaultFirst: 20,
  /**
   * What each dimension of a grouped aggregate (`groupBy`) adds to its `@cost` weight: a request holds one
   * three-dimension `fineTotals` (5,000 + 3 x 2,000), not two.
   */
  dimensionCost: 2000,
  /** The size assumed for a list field without `first` (a user's identifiers, roles, blocks, emails ...). */
  assumedListSize: 10,
  /** Fields the cost estimate visits, counting a fragment again at every spread; a fragment bomb stops here. */
  maxCostedFields: 10_000,
  /**
   * graphql-js's own, fixed budget (16.15): its check that fields of the same name can be merged compares them in
   * pairs and aborts validation past this many comparisons (about 1,000 copies of one field in a selection).
   */
  fieldMergeComparisons: 500_000,
  /** graphql-js's own: validation stops after this many errors. */
  validationErrors: 100,
  /** graphql-js's own: coercing the variables stops after this many errors (e.g. 51 badly written dates in a list). */
  variableErrors: 50,
  /**
   * What every request costs at least against its client's budget (src/server/request-budget.ts), paid before it is
   * parsed (with a point per byte of a longer request); an executed operation then pays the rest of its cost, and a
   * request refused by a limit pays `maxCost`, as much as the costliest query it was not allowed to be.
   */
  baseCost: 1_000,
} as const;

/** The `extensions.code` of a query refused for its cost. */
export const QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

export interface QueryLimits {
  /** Apollo plugins: the cost limit and, in production, the removal of "Did you mean ..." suggestions. */
  plugins: ApolloServerPlugin<any>[];
  /** Depth, alias and directive limits, run with GraphQL validation (refused as GRAPHQL_VALIDATION_FAILED). */
  validationRules: ValidationRule[];
  /** The token limit, enforced by the GraphQL parser itself (refused as GRAPHQL_PARSE_FAILED). */
  parseOptions: ParseOptions;
}

/**
 * The query limits of the server: pass all three parts into the ApolloServer config.
 *
 * - depth, aliases, directives: graphql-armor's validation rules. graphql-armor reports them as BAD_USER_INPUT,
 *   Apollo wraps every validation error as GRAPHQL_VALIDATION_FAILED (HTTP 400).
 * - tokens: graphql's own parser limit (`parseOptions.maxTokens`), refused as GRAPHQL_PARSE_FAILED (HTTP 400).
 *   graphql-armor's Apollo token plugin is off: it throws from `parsingDidStart`, which Apollo answers with HTTP 500,
 *   and its `unexpectedErrorProcessingRequest` hook relabels ANY unexpected failure as GRAPHQL_VALIDATION_FAILED,
 *   a client code that production error masking would let through.
 * - cost: graphql-armor's cost limit is off (it counts fields, not list sizes); `costLimitPlugin` counts `first`.
 * - field suggestions: hidden in production only (development keeps them for the analysts using Sandbox).
 */
export function createQueryLimits(options: { production: boolean; budget?: RequestBudget | null }): QueryLimits {
  const armor = new ApolloArmor({
    maxDepth: { n: QUERY_LIMITS.maxDepth, ...reportWithLimit(QUERY_LIMITS.maxDepth) },
    maxAliases: { n: QUERY_LIMITS.maxAliases, ...reportWithLimit(QUERY_LIMITS.maxAliases) },
    maxDirectives: { n: QUERY_LIMITS.maxDirectives, ...reportWithLimit(QUERY_LIMITS.maxDirectives) },
    maxTokens: { enabled: false },
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: options.production },
  }).protect();
  // protect() also returns allowBatchedHttpRequests and includeStacktraceInErrorResponses: server.ts sets those itself.
  return {
    plugins: [...armor.plugins, ...(options.production ? [hideEnumSuggestionsPlugin()] : []), graphqlLimitsPlugin(), costLimitPlugin(options.budget ?? null)],
    validationRules: armor.validationRules,
    parseOptions: { maxTokens: QUERY_LIMITS.maxTokens },
  };
}

/**
 * graphql-armor's refusals (depth, aliases, directives) reported as validation errors carrying the maximum they enforce
 * as `extensions.limit`: its own reporter copies the message alone.
 */
function reportWithLimit(maximum: number) {
  return {
    propagateOnRejection: false,
    onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(new GraphQLError(error.message, { extensions: { limit: maximum } }))],
  };
}

/**
 * graphql-js enforces three limits of its own whose refusals do not say what was exceeded: the token limit (a parse
 * error, "Document contains more that 2000 tokens"), the field-merge budget (a bare "Validation aborted.": 1,500
 * copies of `__typename` fit in 2,000 tokens and make 1.1 million comparisons), its 100 validation errors and its 50
 * variable errors (that last refusal carries no code at all, so it was answered as an internal error).
 * Each gets a message naming the limit and `extensions.limit`, and a client code where it has none.
 */
function graphqlLimitsPlugin(): ApolloServerPlugin<BaseContext> {
  const named: [pattern: RegExp, limit: number, message: string | null][] = [
    [/^Syntax Error: Document contains more th[ae]t \d+ tokens/, QUERY_LIMITS.maxTokens, null],
    [/^Validation aborted\.$/, QUERY_LIMITS.fieldMergeComparisons,
      `The query repeats fields too often to be validated: the check that fields of the same name can be merged stops after `
      + `${QUERY_LIMITS.fieldMergeComparisons} comparisons (about 1,000 copies of one field in a selection, fragments included). `
      + `Ask for each field once per selection.`],
    [/^Too many validation errors/, QUERY_LIMITS.validationErrors,
      `The query has more than ${QUERY_LIMITS.validationErrors} validation errors; validation stopped there.`],
    [/^Too many errors processing variables/, QUERY_LIMITS.variableErrors,
      `The variables have more than ${QUERY_LIMITS.variableErrors} invalid values; checking them stopped there.`],
  ];
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            const match = named.find(([pattern]) => pattern.test(error.message));
            if (!match) continue;
            if (match[2]) error.message = match[2];
            Object.assign(error.extensions, { limit: match[1] });
            if (typeof error.extensions.code !== 'string') Object.assign(error.extensions, { code: 'BAD_USER_INPUT', http: { status: 400 } });
          }
        },
      };
    },
  };
}

/**
 * Refuses, after validation and before execution, an operation whose cost (`operationCost`) exceeds
 * `QUERY_LIMITS.maxCost`, with QUERY_TOO_COMPLEX, the cost and the maximum. It fails closed: an operation whose cost
 * cannot be computed does not run (`operationCost` throws).
 */
function costLimitPlugin(budget: RequestBudget | null): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ contextValue, request }) {
      const spend = async (cost: number) => (budget && cost > 0 ? budget.spend(contextValue.client, cost) : { ok: true as const });
      // The admission price, paid before parsing, so a client over its budget is slowed down before it costs anything
      // more: the base cost, or a point per byte of the request when more (parsing and validating grow with its length:
      // 1,500 copies of one field, 4.5 KB, take 11 ms to refuse).
      const admission = Math.max(QUERY_LIMITS.baseCost, Number(request.http?.headers.get('content-length') ?? request.query?.length ?? 0));
      const admitted = await spend(admission);
      let charged = false;
      return {
        async didResolveOperation({ schema, document, operation, operationName, request }) {
          if (!admitted.ok) throw overBudget(admitted.retryAfterMs);
          // No operation (an unknown operationName): Apollo refuses the request itself.
          if (!operation) return;
          const cost = cachedCost(schema, document, operation, operationName ?? undefined, request.variables ?? {});
          // Variables that do not coerce: execution refuses them with the usual variable error before any resolver runs.
          if (cost === null) return;
          charged = true;
          if (cost > QUERY_LIMITS.maxCost) {
            await spend(QUERY_LIMITS.maxCost - admission);
            throw tooComplex(
              `Query cost ${cost} exceeds the maximum of ${QUERY_LIMITS.maxCost}: ask for fewer items (first) or fewer nested lists.`,
              QUERY_LIMITS.maxCost,
              { cost },
            );
          }
          const spent = await spend(cost - admission);
          if (!spent.ok) throw overBudget(spent.retryAfterMs);
        },
        async didEncounterErrors({ errors }) {
          // Refused by a limit (depth, tokens, field merges, an uncomputable cost, an overlong input ...) before or
          // instead of being costed: charged as the costliest query it was not allowed to be.
          if (charged || !errors.some((e) => e.extensions?.limit !== undefined)) return;
          charged = true;
          await spend(QUERY_LIMITS.maxCost - admission);
        },
      };
    },
  };
}

function overBudget(retryAfterMs: number): GraphQLError {
  const seconds = secondsFrom(retryAfterMs);
  return tooManyRequests(`Too many requests: this client has spent its query budget for now (see the README's Limits); retry in ${seconds} s`, seconds);
}

function tooComplex(message: string, limit: number, extra: Record<string, unknown>): GraphQLError {
  return new GraphQLError(message, { extensions: { code: QUERY_TOO_COMPLEX, ...extra, limit, http: { status: 400 } } });
}

/**
 * Costs already computed, by document (Apollo hands the same parsed document to every request with the same query
 * text), operation name and the values of the variables a cost depends on: those given to a `first` or `groupBy` argument or to
 * `@include`/`@skip` (a point lookup's identifier changes with every request, its cost does not). A list page asked
 * again and again is costed once, where walking its fields took about 2.5% of the server's time, and a lookup 5%.
 * Bounded per document. Refusals are not cached, so they are recomputed; null: the variables do not coerce.
 */
const costs = new WeakMap<DocumentNode, Map<string, number>>();
const costVariables = new WeakMap<DocumentNode, string[]>();
const COSTS_PER_DOCUMENT = 64;
const MAX_COST_KEY = 1024;

function cachedCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  operationName: string | undefined,
  variables: Record<string, unknown>,
): number | null {
  const key = `${operationName ?? ''}\u0000${JSON.stringify(variablesOfCost(document).map((name) => variables[name] ?? null))}`;
  let known = costs.get(document);
  const hit = known?.get(key);
  if (hit !== undefined) return hit;
  if (getVariableValues(schema, operation.variableDefinitions ?? [], variables).errors) return null;
  const cost = operationCost(schema, document, operation, operationName, variables);
  if (key.length <= MAX_COST_KEY) {
    if (!known) costs.set(document, (known = new Map()));
    if (known.size >= COSTS_PER_DOCUMENT) known.clear();
    known.set(key, cost);
  }
  return cost;
}

/** The variables of a document that reach a `first` or `groupBy` argument or the `if` of `@include`/`@skip`. */
function variablesOfCost(document: DocumentNode): string[] {
  let names = costVariables.get(document);
  if (!names) {
    const found = new Set<string>();
    const variableOf = (node: ValueNode): void => {
      if (node.kind === Kind.VARIABLE) found.add(node.name.value);
      if (node.kind === Kind.LIST) node.values.forEach(variableOf);
    };
    visit(document, {
      Argument(node) {
        if (node.name.value === 'first' || node.name.value === 'groupBy') variableOf(node.value);
      },
      Directive(node) {
        if (node.name.value === 'include' || node.name.value === 'skip') node.arguments?.forEach((a) => variableOf(a.value));
      },
    });
    costVariables.set(document, (names = [...found].sort()));
  }
  return names;
}

/**
 * The cost of one operation of `document` with these (valid) variables, defaults of the schema and the operation
 * applied. Throws the refusal when the query expands past `maxCostedFields`, or when the cost cannot be computed: an
 * argument or directive that does not coerce with these variables (a null for `@include(if:)` through a variable with
 * a default). Such a query used to be costed without the fields it could not read, or at 0, and ran.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  operationName: string | undefined,
  variables: Record<string, unknown>,
): number {
  const pagedTypes = pagedTypesOf(schema);
  try {
    return getComplexity({
      schema,
      query: document,
      operationName,
      variables,
      estimators: [(args) => fieldCost(args, pagedTypes)],
      maxQueryNodes: QUERY_LIMITS.maxCostedFields,
    });
  } catch (e) {
    if (!(e instanceof GraphQLError)) throw e;
    if (/maximum allowed number of nodes/.test(e.message)) {
      throw tooComplex(`The query has more than ${QUERY_LIMITS.maxCostedFields} fields once its fragments are expanded.`, QUERY_LIMITS.maxCostedFields, {});
    }
    throw new GraphQLError(
      `The cost of this ${operation.operation} cannot be computed, and the cost limit (at most ${QUERY_LIMITS.maxCost}) refuses what it cannot count: ${e.message}`,
      { extensions: { code: 'BAD_USER_INPUT', limit: QUERY_LIMITS.maxCost, http: { status: 400 } } },
    );
  }
}

/**
 * A field costs 1, plus its `@cost(weight:)` in the SDL, plus the cost of its selection, multiplied by the number of
 * items it returns:
 * - `first` (or the schema's default for it, or `defaultFirst`) when the field takes a `first` argument (`users`,
 *   `staffLoginReport`); below 1 counts as 1, so a refused negative `first` cannot offset other fields;
 * - 1 for a list directly inside what such a field returns (`UserConnection.edges`, `StaffLoginReport.attempts`):
 *   `first` already counted it;
 * - a grouped aggregate (`fineTotals`, `userCounts`) adds `dimensionCost` per dimension of its `groupBy` and assumes
 *   `assumedListSize` rows;
 * - `assumedListSize` for any other list of objects (a user's `identifiers`, `roles`, `blocks`, `proxyFor` ...).
 * Lists of scalars (`patronLetters`) cost 1, like a scalar. Introspection and `__typename` cost nothing.
 */
function fieldCost({ type, field, args, childComplexity }: ComplexityEstimatorArgs, pagedTypes: ReadonlySet<string>): number {
  if (field.name.startsWith('__') || type.name.startsWith('__')) return 0;
  const cost = 1 + weightOf(field) + childComplexity;
  if (field.args.some((a) => a.name === 'groupBy')) {
    // A grouped aggregate (fineTotals, userCounts): its statement's work grows with each dimension, its rows are few.
    const dimensions = Array.isArray(args.groupBy) ? Math.min(args.groupBy.length, 3) : 3;
    return 1 + weightOf(field) + dimensions * QUERY_LIMITS.dimensionCost + QUERY_LIMITS.assumedListSize * childComplexity;
  }
  if (field.args.some((a) => a.name === 'first')) {
    const first = typeof args.first === 'number' ? args.first : QUERY_LIMITS.defaultFirst;
    return Math.max(first, 1) * cost;
  }
  const listOfObjects = isListType(getNullableType(field.type)) && isCompositeType(getNamedType(field.type));
  if (listOfObjects && !pagedTypes.has(type.name)) return QUERY_LIMITS.assumedListSize * cost;
  return cost;
}

/** The SDL's `@cost(weight:)` of a field: the work it does beyond its selection (argon2 for a password, ...). */
const weights = new WeakMap<object, number>();
function weightOf(field: ComplexityEstimatorArgs['field']): number {
  let weight = weights.get(field);
  if (weight === undefined) {
    const directive = field.astNode?.directives?.find((d) => d.name.value === 'cost');
    const value = directive?.arguments?.find((a) => a.name.value === 'weight')?.value;
    weights.set(field, (weight = value?.kind === Kind.INT ? Number(value.value) : 0));
  }
  return weight;
}

/** Types returned by a field that takes `first` (UserConnection, StaffLoginReport): `first` sizes the lists they hold. */
const pagedTypesCache = new WeakMap<GraphQLSchema, ReadonlySet<string>>();
function pagedTypesOf(schema: GraphQLSchema): ReadonlySet<string> {
  let paged = pagedTypesCache.get(schema);
  if (!paged) {
    const names = new Set<string>();
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type)) continue;
      for (const field of Object.values(type.getFields())) {
        if (field.args.some((a) => a.name === 'first')) names.add(getNamedType(field.type).name);
      }
    }
    pagedTypesCache.set(schema, (paged = names));
  }
  return paged;
}

/**
 * graphql-armor hides `Did you mean "x"?` but not graphql's enum wording, `Did you mean the enum value "X"?`, which
 * would name enum values a production client cannot introspect. Production only.
 */
function hideEnumSuggestionsPlugin(): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) error.message = error.message.replace(/ ?Did you mean the enum value ".+"\?/g, '');
        },
      };
    },
  };
}
