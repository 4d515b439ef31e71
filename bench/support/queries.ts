/**
 * The GraphQL requests of `npm run bench`, in one place: the bench sends them to Carrel and to the floor server, and
 * the floor recognises each scenario by its exact query text, so the two can never drift apart.
 */

const ROW = `id displayName primaryIdentifier userGroup expiryDate identifiers { type value }
  roles { roleType scope { type library { code } } } blocks { type } hasActiveBlock
  fineSummary { activeBalance disputedBalance exceedsDebtLimit }`;

const listPage = (args: string, totalCount = true) => `query { users(${args}) { ${totalCount ? 'totalCount ' : ''}edges { node { ${ROW} } } } }`;

/** The name search of scenario 3, as the users list lower-cases and wraps it (`%word%`). */
export const NAME_SEARCH = 'an';

export const QUERIES = {
  list: listPage('first: 50, filter: { recordType: PUBLIC }'),
  nocount: listPage('first: 50, filter: { recordType: PUBLIC }', false),
  lookup: `query($v: String!) { userByIdentifier(value: $v) { id displayName identifiers { type value } roles { roleType } } }`,
  name: listPage(`first: 50, filter: { recordType: PUBLIC, name: "${NAME_SEARCH}" }`),
  blocked: listPage('first: 50, filter: { recordType: PUBLIC, hasActiveBlock: true }, sort: { field: EXPIRY_DATE, direction: ASC }'),
} as const;

export type ScenarioKey = keyof typeof QUERIES;

/** In the order the bench runs and reports them. */
export const SCENARIO_KEYS: ScenarioKey[] = ['list', 'nocount', 'lookup', 'name', 'blocked'];
