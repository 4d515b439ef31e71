import { getDirective } from '@graphql-tools/utils';
import fc from 'fast-check';
import {
  GraphQLArgument,
  GraphQLField,
  GraphQLInputField,
  GraphQLInputType,
  GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
} from 'graphql';
import * as v from './values';
import { Gen, PoolName } from './values';

/**
 * Argument generators read off the schema: every argument of a root field
 * gets an arbitrary built from its type, so a field added to the SDL is fuzzed
 * without touching this file. Names steer the valid part of each value (an
 * argument `userId` draws real users, `roleType` real role codes); every
 * value also has boundary, hostile and, rarely, wrong-typed alternatives.
 * The `@limit` directive, where the SDL sets one, gives the length and item
 * boundaries (at the maximum and one over).
 */

/** Where a value sits: the root field and the argument or input field name. */
interface Place {
  rootField: string;
  name: string;
  limit: { maxLength?: number; maxItems?: number };
}

/** Which pool an ID named `name` draws from; `id` itself is named by the root field (`updateEmail(id:)` takes an email). */
const ID_POOLS: [RegExp, PoolName][] = [
  [/^(userId|proxyUserId|sponsorUserId|fulfillmentProxyFor)$/, 'user'], [/fineIds?$/i, 'fine'], [/libraryId|ownerLibrary/i, 'library'],
  [/deskId/i, 'desk'], [/profileId/i, 'profile'], [/roleId/i, 'role'],
];
const ROOT_ID_POOLS: [RegExp, PoolName][] = [
  [/Identifier$/, 'identifier'], [/Email$/, 'email'], [/Address$/, 'address'], [/Phone$/, 'phone'], [/Note$/, 'note'], [/Block$/, 'block'],
  [/Statistic$/, 'statistic'], [/Fines?$/, 'fine'], [/RoleProfile$/, 'profile'], [/RoleAssignmentRule$/, 'rule'], [/Proxy$/, 'proxy'],
  [/ApiKey$/, 'apiKey'], [/Role(Active)?$/, 'role'], [/User$|^user$/, 'user'],
];

function idPool(place: Place): PoolName {
  const named = place.name === 'id' ? ROOT_ID_POOLS.find(([re]) => re.test(place.rootField)) : ID_POOLS.find(([re]) => re.test(place.name));
  return named?.[1] ?? 'user';
}

/** The valid part of a text value, by its name. */
function validText(place: Place): fc.Arbitrary<Gen> {
  const { name } = place;
  if (/password/i.test(name)) return fc.oneof(fc.constantFrom('correct horse battery', 'short', 'Longer-Passw0rd-2026'), v.word);
  if (/^pin/i.test(name)) return fc.oneof(fc.stringMatching(/^\d{4}$/), fc.constantFrom('123', '12345', '12a4'));
  if (/^institution$/.test(name)) return v.ref('institutionCode', 3);
  if (/^after$|cursor/i.test(name)) return v.ref('cursor', 0);
  if (/Libraries$/.test(name)) return v.ref('libraryCode', 2);
  if (/^(value|identifier|primaryIdentifier)$/.test(name)) return fc.oneof(v.ref('identifierValue', 2), v.word);
  if (/type|group|category|campus|reason|method|code|level|letters|language|category/i.test(name)) return fc.oneof({ weight: 4, arbitrary: v.ref('code', 0) }, { weight: 1, arbitrary: v.word });
  if (/owner/i.test(name)) return fc.constantFrom('SIS', 'SIS_temp');
  if (/url|website/i.test(name)) return fc.oneof(fc.webUrl(), fc.constantFrom('javascript:alert(1)', 'http://', 'ftp://x'));
  return fc.oneof(v.text, v.word);
}

/** A value of a scalar: valid for its name, or (hostile style) also odd, hostile, at and over its length limit. */
function scalar(name: string, place: Place, hostile: boolean): fc.Arbitrary<Gen> {
  const either = <T extends Gen>(kind: v.ValueKind<T>): fc.Arbitrary<Gen> => (hostile ? fc.oneof(kind.valid, kind.odd) : kind.valid);
  const max = place.limit.maxLength;
  const odd = max !== undefined ? fc.oneof(v.hostileString, v.atLength(max)) : v.hostileString;
  switch (name) {
    case 'ID': {
      const id = fc.oneof({ weight: 8, arbitrary: v.ref(idPool(place)) as fc.Arbitrary<Gen> }, { weight: 1, arbitrary: v.randomUuid });
      return hostile ? fc.oneof({ weight: 2, arbitrary: id }, { weight: 1, arbitrary: fc.oneof(v.malformedId, odd) }) : id;
    }
    case 'Int':
    case 'Float':
      return either(v.int);
    case 'Boolean':
      return fc.boolean();
    case 'Date':
      return either(v.date);
    case 'DateTime':
      return either(v.dateTime);
    case 'Decimal':
      return either(v.decimal);
    case 'EmailAddress':
      return either(v.email);
    default:
      return hostile ? fc.oneof({ weight: 1, arbitrary: validText(place) }, { weight: 1, arbitrary: odd }) : validText(place);
  }
}

function limitOf(schema: GraphQLSchema, node: GraphQLArgument | GraphQLInputField): Place['limit'] {
  const given = getDirective(schema, node, 'limit')?.[0] as Place['limit'] | undefined;
  return { maxLength: given?.maxLength, maxItems: given?.maxItems };
}

function list(item: fc.Arbitrary<Gen>, place: Place, hostile: boolean): fc.Arbitrary<Gen> {
  const max = place.limit.maxItems ?? 100;
  const short = fc.oneof({ weight: 8, arbitrary: fc.array(item, { maxLength: 4 }) }, { weight: 1, arbitrary: fc.constant<Gen[]>([]) });
  // Long lists repeat one item: cheap to build and to send, and duplicates are a case of their own.
  const long = fc.tuple(item, fc.constantFrom(max, max + 1, 1000, 1200)).map(([value, n]) => Array<Gen>(n).fill(value));
  return hostile ? fc.oneof({ weight: 4, arbitrary: short }, { weight: 1, arbitrary: long }) : short;
}

/** An arbitrary for a value of `type` at `place`; `depth` stops runaway recursion through input objects. */
function valueOf(schema: GraphQLSchema, type: GraphQLInputType, place: Place, hostile: boolean, depth: number): fc.Arbitrary<Gen> {
  if (isNonNullType(type)) return nonNull(schema, type.ofType, place, hostile, depth);
  return fc.oneof({ weight: 8, arbitrary: nonNull(schema, type, place, hostile, depth) }, { weight: 1, arbitrary: fc.constant(null) });
}

function nonNull(schema: GraphQLSchema, type: GraphQLInputType, place: Place, hostile: boolean, depth: number): fc.Arbitrary<Gen> {
  if (isListType(type)) return list(valueOf(schema, type.ofType, place, hostile, depth), place, hostile);
  if (isEnumType(type)) return fc.constantFrom(...type.getValues().map((e) => e.name));
  if (isScalarType(type)) return scalar(type.name, place, hostile);
  if (isInputObjectType(type)) {
    if (depth > 3) return fc.constant({});
    const fields = Object.values(type.getFields());
    const model: Record<string, fc.Arbitrary<Gen>> = {};
    for (const field of fields) model[field.name] = valueOf(schema, field.type, { ...place, name: field.name, limit: limitOf(schema, field) }, hostile, depth + 1);
    // Required fields are always sent (a missing one is a case of wrongValue); optional ones sometimes.
    return fc.record(model, { requiredKeys: fields.filter((f) => isNonNullType(f.type)).map((f) => f.name) }) as fc.Arbitrary<Gen>;
  }
  return fc.constant(null);
}

/**
 * The arguments of one root field: each required one, and each optional one
 * more often than not. `hostile`: values may also be odd or hostile (the
 * other style keeps to what a careful client sends, so cases get past the
 * input checks into the services' rules).
 */
export function argumentsOf(schema: GraphQLSchema, field: GraphQLField<unknown, unknown>, hostile: boolean): fc.Arbitrary<Record<string, Gen>> {
  const model: Record<string, fc.Arbitrary<Gen>> = {};
  for (const arg of field.args) model[arg.name] = valueOf(schema, arg.type, { rootField: field.name, name: arg.name, limit: limitOf(schema, arg) }, hostile, 0);
  return fc.record(model, { requiredKeys: field.args.filter((a) => isNonNullType(a.type)).map((a) => a.name) }) as fc.Arbitrary<Record<string, Gen>>;
}

/** Where a wrong value goes: the n-th value of the arguments, depth first (wraps around). */
export function replaceNth(args: Record<string, Gen>, n: number, wrong: Gen): Record<string, Gen> {
  const slots: { holder: Record<string, Gen> | Gen[]; key: string | number }[] = [];
  const clone = (value: Gen): Gen => {
    if (Array.isArray(value)) return value.map(clone);
    if (value !== null && typeof value === 'object' && !(value instanceof v.Ref)) return Object.fromEntries(Object.entries(value).map(([k, item]) => [k, clone(item)]));
    return value;
  };
  const copy = clone(args) as Record<string, Gen>;
  const walk = (holder: Record<string, Gen> | Gen[]) => {
    for (const [key, value] of Object.entries(holder)) {
      slots.push({ holder, key: Array.isArray(holder) ? Number(key) : key });
      if (value !== null && typeof value === 'object' && !(value instanceof v.Ref)) walk(value as Record<string, Gen>);
    }
  };
  walk(copy);
  if (slots.length === 0) return args;
  const slot = slots[n % slots.length];
  (slot.holder as Record<string | number, Gen>)[slot.key] = wrong;
  return copy;
}
