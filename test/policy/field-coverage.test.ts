import {
  execute, getNamedType, GraphQLField, GraphQLInputType, GraphQLNamedType, isEnumType, isInputObjectType, isListType, isNonNullType, isObjectType,
  isScalarType, parse,
} from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { createPolicy } from '../../src/policy/policy';
import { accessOf, ARGUMENT_ACCESS, FieldAccess, NON_PERSONAL_TYPES, ROOT_ACCESS } from '../../src/policy/field-access';
import { guardSchema, userDataTypes } from '../../src/policy/field-guard';
import type { Operator } from '../../src/policy/operator';
import { buildSchema } from '../../src/schema';
import { createInstitution, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';
import { subscribe } from '../support/ws-client';

/**
 * Secure by default, for fields (issue 8): walks the executable schema and
 * fails when a root field or a field of any object type has no access rule,
 * when a type that holds user data is readable by any operator, and when any
 * root field answers a client without a token or an operator without the
 * field's action. A new field or type fails here until the policy names who
 * may read it.
 */

const schema = buildSchema();
const ROOTS = ['Query', 'Mutation'] as const;
const objectTypes = Object.values(schema.getTypeMap()).filter((t) => isObjectType(t) && !t.name.startsWith('__'));

/** A field's rule as it applies to some sample objects (a Role of a user, a Role of an API key). */
function accessesOf(access: FieldAccess): unknown[] {
  return typeof access === 'function' ? [access({ id: 'u', userId: 'u', apiKeyId: null }), access({ id: 'k', userId: null, apiKeyId: 'k' })] : [access];
}

test('every root field has an access rule, and the policy names no root field that does not exist', () => {
  for (const root of [...ROOTS, 'Subscription'] as const) {
    const fields = Object.keys((schema.getType(root) as any).getFields());
    expect({ root, missing: fields.filter((f) => ROOT_ACCESS[root][f] === undefined) }).toEqual({ root, missing: [] });
    expect({ root, stale: Object.keys(ROOT_ACCESS[root]).filter((f) => !fields.includes(f)) }).toEqual({ root, stale: [] });
  }
});

test('the policy\'s argument rules name only arguments that exist: a renamed filter cannot drop its rule silently', () => {
  const stale = Object.entries(ARGUMENT_ACCESS).flatMap(([field, rules]) => Object.keys(rules).filter((path) => {
    const [typeName, fieldName] = field.split('.');
    const [argument, ...rest] = path.split('.');
    const named = (t: GraphQLInputType | undefined) => (t ? getNamedType(t) : undefined) as GraphQLNamedType | undefined;
    let type = named((schema.getType(typeName) as any)?.getFields()[fieldName]?.args.find((a: any) => a.name === argument)?.type);
    for (const key of rest) type = isInputObjectType(type) ? named(type.getFields()[key]?.type) : undefined;
    return type === undefined;
  }).map((path) => `${field}(${path})`));
  expect(stale).toEqual([]);
});

test('every field of every object type has an access rule', () => {
  const missing = objectTypes.flatMap((type) => Object.keys((type as any).getFields()).filter((f) => accessOf(type.name, f) === undefined).map((f) => `${type.name}.${f}`));
  expect(missing).toEqual([]);
});

test('every field of a type holding user data needs an action: none is open to any operator unless the type is declared non-personal', () => {
  const types = userDataTypes(schema);
  // The walk finds what a user's record reaches and what returns users (reports, payloads).
  for (const name of ['User', 'Identifier', 'Email', 'Role', 'Block', 'Note', 'Fine', 'FineAction', 'HistoryEntry', 'Proxy', 'NamedUser', 'LoginAttemptEntry']) {
    expect(types).toContain(name);
  }
  const open = [...types].filter((name) => !NON_PERSONAL_TYPES.has(name)).flatMap((name) => {
    const fields = Object.keys((schema.getType(name) as any).getFields());
    return fields.filter((f) => accessesOf(accessOf(name, f)!).some((a) => a === 'authenticated' || a === 'public')).map((f) => `${name}.${f}`);
  });
  expect(open).toEqual([]);
});

test('a field the policy does not know is refused at run time, not served', async () => {
  const bare = makeExecutableSchema({
    // Query.me has a rule ('authenticated'); neither Query.extra nor the type Secret has one.
    typeDefs: 'type Query { me: Secret extra: String } type Secret { answer: String }',
    resolvers: { Query: { me: () => ({ answer: 'leaked' }), extra: () => 'leaked' } },
  });
  const operator: Operator = {
    kind: 'USER', id: 'op', label: 'op', institutionId: 'i', institutionCode: 'I', libraryIndependence: true, debtLimit: '0',
    roles: [{ roleType: 'USER_ADMINISTRATOR', scopeType: 'INSTITUTION', libraryId: null, deskId: null }], cannotEditRestricted: false, passwordChangeRequired: false,
  };
  const result = await execute({ schema: guardSchema(bare), document: parse('{ me { answer } extra }'), contextValue: { policy: createPolicy(() => operator) } });
  expect(result.data).toEqual({ me: { answer: null }, extra: null });
  expect(result.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([
    ['Secret.answer has no access rule in the policy', 'FORBIDDEN'],
    ['Query.extra has no access rule in the policy', 'FORBIDDEN'],
  ]);
});

// ---------------------------------------------------------------- every root field, over HTTP

/** A value the type accepts, so that a request passes validation and reaches the field's guard. */
function sample(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sample(type.ofType);
  if (isListType(type)) return [sample(type.ofType)];
  if (isEnumType(type)) return type.getValues()[0].value;
  if (isInputObjectType(type)) {
    return Object.fromEntries(Object.values(type.getFields()).filter((f) => isNonNullType(f.type)).map((f) => [f.name, sample(f.type)]));
  }
  if (isScalarType(type)) {
    const byScalar: Record<string, unknown> = {
      ID: '00000000-0000-4000-8000-000000000000', String: 'x', Int: 1, Boolean: true, Date: '2030-01-01', DateTime: '2030-01-01T00:00:00Z',
      Decimal: '1.00', EmailAddress: 'x@example.edu',
    };
    if (type.name in byScalar) return byScalar[type.name];
  }
  throw new Error(`no sample for ${String(type)}`);
}

/** The smallest request for a root field: every argument as a variable, `__typename` selected under an object. */
function requestFor(root: 'Query' | 'Mutation', field: GraphQLField<unknown, unknown>) {
  const args = field.args;
  const variables = Object.fromEntries(args.map((a) => [a.name, sample(a.type)]));
  const declared = args.length ? `(${args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ')})` : '';
  const passed = args.length ? `(${args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
  const selection = isObjectType(getNamedType(field.type)) ? ' { __typename }' : '';
  return { query: `${root === 'Query' ? 'query' : 'mutation'}${declared} { ${field.name}${passed}${selection} }`, variables };
}

const rootFields = ROOTS.flatMap((root) => Object.values((schema.getType(root) as any).getFields() as Record<string, GraphQLField<unknown, unknown>>)
  .map((field) => ({ root, field, access: ROOT_ACCESS[root][field.name] })));

describe('every root field over HTTP', () => {
  let app: TestApp;
  let inst: InstitutionFixture;
  let cataloger: string;
  beforeAll(async () => {
    app = await startTestApp();
    inst = await createInstitution(app.db.dataSource);
    // A staff role that the permission table grants nothing.
    ({ op_cataloger: cataloger } = await loginOperators(app, inst, { op_cataloger: ['CATALOGER', 'INSTITUTION'] }));
  });
  afterAll(() => app.close());

  test.each(rootFields.filter((r) => r.access !== 'public').map((r) => [`${r.root}.${r.field.name}`, r] as const))(
    '%s answers UNAUTHENTICATED without a token', async (_name, { root, field }) => {
      const { query, variables } = requestFor(root, field);
      const res = await app.gql(query, variables);
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    });

  test.each(rootFields.filter((r) => typeof r.access === 'string' && r.access.includes('.')).map((r) => [`${r.root}.${r.field.name}`, r] as const))(
    '%s answers FORBIDDEN to an operator without its action', async (_name, { root, field }) => {
      const { query, variables } = requestFor(root, field);
      const res = await app.gql(query, variables, cataloger);
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    });
});

/** Subscriptions (issue 11): the connection itself needs credentials; each field then needs its action. */
describe('every subscription field over graphql-ws', () => {
  let app: TestApp;
  let cataloger: string;
  const fields = Object.values((schema.getType('Subscription') as any).getFields() as Record<string, GraphQLField<unknown, unknown>>);
  const request = (field: GraphQLField<unknown, unknown>) => `subscription { ${field.name} { __typename } }`;
  beforeAll(async () => {
    app = await startTestApp();
    const inst = await createInstitution(app.db.dataSource);
    ({ op_cataloger: cataloger } = await loginOperators(app, inst, { op_cataloger: ['CATALOGER', 'INSTITUTION'] }));
  });
  afterAll(() => app.close());

  test.each(fields.map((f) => [f.name, f] as const))('%s: a connection without credentials is closed with 4401 before it can subscribe', async (_name, field) => {
    const sub = subscribe(app.url, undefined, request(field));
    const { closed } = await sub.ended;
    await sub.dispose();
    expect(closed?.code).toBe(4401);
  });

  test.each(fields.map((f) => [f.name, f] as const))('%s answers FORBIDDEN to an operator without its action', async (_name, field) => {
    const sub = subscribe(app.url, { authorization: `Bearer ${cataloger}` }, request(field));
    const { errors } = await sub.ended;
    await sub.dispose();
    expect(errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });
});
