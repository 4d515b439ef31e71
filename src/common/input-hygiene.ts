import { DirectableGraphQLObject, getDirective, MapperKind, mapSchema } from '@graphql-tools/utils';
import {
  defaultFieldResolver,
  getNullableType,
  GraphQLArgument,
  GraphQLFieldResolver,
  GraphQLResolveInfo,
  GraphQLInputType,
  GraphQLSchema,
  isInputObjectType,
  isListType,
  isObjectType,
  isScalarType,
} from 'graphql';
import { badInput } from './errors';
import { DATE_RANGE, dateInRange, dateTimeInRange, DECIMAL_MAXIMUM, decimalInRange } from './scalars';

/**
 * The input-hygiene layer (issue 9): one place that bounds and cleans every
 * argument before any resolver sees it, so no field can forget to.
 *
 * - Text (String, ID, EmailAddress) is NFC-normalised (one byte sequence per
 *   visible string: a decomposed "é" and a composed one are the same
 *   identifier), trimmed where the field is a code or identifier, and refused
 *   when it holds a control character (PostgreSQL cannot store NUL; tabs and
 *   line breaks belong to free text only), an invisible formatting character
 *   (zero-width space, BOM, bidi controls: two identifiers that look the same
 *   must be the same), an unpaired surrogate (not Unicode), or more than its
 *   maximum of characters (kept under PostgreSQL's index row limit).
 * - Every list has a maximum number of items, so one request's work is bounded.
 * - Dates lie between 1850-01-01 and 9999-12-31; money is at most
 *   999,999,999.99 (the institution's own, lower maximum for charges is a
 *   rule of the fines service).
 *
 * The limits are read once, at schema build, from the SDL's `@limit`
 * directive (schema/common.graphql) or the defaults below, and appended to
 * each argument's and input field's description, so introspection documents
 * exactly what is enforced. A refusal is BAD_USER_INPUT whose `field` is the
 * value's path (`input.identifiers[3].value`), raised before the resolver
 * runs, so a refused request writes nothing. The policy check wraps this
 * layer (schema.ts), so a caller without access learns nothing from it.
 */

/**
 * The scalars carried as text, with the most characters a value may have
 * when its field sets no `maxLength`: a line of text; an id (ours are uuids);
 * an email address (RFC 5321's 254). Date, DateTime and Decimal have formats
 * of their own and get range checks instead.
 */
export const DEFAULT_MAX_LENGTH: Readonly<Record<string, number>> = { String: 255, ID: 64, EmailAddress: 254 };
export const DEFAULT_MAX_ITEMS = 100;

export interface InputLimit {
  /** Unset: the scalar's default. */
  maxLength?: number;
  maxItems: number;
  trim: boolean;
  multiline: boolean;
}

const isText = (name: string) => name in DEFAULT_MAX_LENGTH;

/** Control (Cc), formatting (Cf), surrogate (Cs) and line/paragraph separator characters. */
const SINGLE_LINE_FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
/** Free text may also hold tabs and line breaks, and the joiners that Persian, Indic scripts and emoji sequences need. */
const MULTILINE_FORBIDDEN = /(?![\t\n\r\u200c\u200d\u2028\u2029])[\p{Cc}\p{Cf}\p{Cs}]/u;
/** Printable ASCII: already NFC, nothing forbidden; most input is this, and skips the Unicode work. */
const PLAIN = /^[\x20-\x7e]*$/;

type Clean = (value: unknown, path: string) => unknown;

function limitOf(schema: GraphQLSchema, node: DirectableGraphQLObject): InputLimit {
  const given = (getDirective(schema, node, 'limit')?.[0] ?? {}) as Partial<InputLimit>;
  return {
    maxLength: given.maxLength,
    maxItems: given.maxItems ?? DEFAULT_MAX_ITEMS,
    trim: given.trim ?? false,
    multiline: given.multiline ?? false,
  };
}

function describeCharacter(ch: string): string {
  const code = `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  if (/\p{Cs}/u.test(ch)) return `an unpaired surrogate (${code}), which is not valid Unicode`;
  if (/\p{Cf}/u.test(ch)) return `an invisible formatting character (${code})`;
  if (/[\p{Zl}\p{Zp}\n\r]/u.test(ch)) return `a line break (${code}); this field is a single line`;
  return `a control character (${code})`;
}

function cleanText(scalar: string, limit: InputLimit): Clean {
  const maxLength = limit.maxLength ?? DEFAULT_MAX_LENGTH[scalar];
  const forbidden = limit.multiline ? MULTILINE_FORBIDDEN : SINGLE_LINE_FORBIDDEN;
  return (value, path) => {
    if (typeof value !== 'string') return value;
    let text = PLAIN.test(value) ? value : value.normalize('NFC');
    if (limit.trim) text = text.trim();
    const bad = forbidden.exec(text);
    if (bad) throw badInput(path, `${path} contains ${describeCharacter(bad[0])}, which is not allowed`);
    // UTF-16 length is at least the number of characters: count code points only when it may be over.
    if (text.length > maxLength) {
      const characters = [...text].length;
      if (characters > maxLength) {
        throw badInput(path, `${path} is ${characters} characters long: at most ${maxLength} are allowed`, { limit: maxLength });
      }
    }
    return text;
  };
}

const RANGE_CHECKS: Record<string, Clean> = {
  Date: (value, path) => {
    if (typeof value === 'string' && !dateInRange(value)) {
      throw badInput(path, `${path}: ${value} is outside the dates accepted, ${DATE_RANGE.min} to ${DATE_RANGE.max}`);
    }
    return value;
  },
  DateTime: (value, path) => {
    if (value instanceof Date && !dateTimeInRange(value)) {
      throw badInput(path, `${path}: ${value.toISOString()} is outside the instants accepted, ${DATE_RANGE.min} to ${DATE_RANGE.max}`);
    }
    return value;
  },
  Decimal: (value, path) => {
    if (typeof value === 'string' && !decimalInRange(value)) {
      throw badInput(path, `${path} is too large: amounts are at most ${DECIMAL_MAXIMUM}`, { limit: DECIMAL_MAXIMUM });
    }
    return value;
  },
};

/**
 * Builds the cleaner of each input type once. Input objects are cached by
 * name (and may refer to themselves); null means nothing to check, so fields
 * whose arguments are only numbers, booleans and enums are not wrapped at all.
 */
class Planner {
  private readonly objects = new Map<string, Clean | null>();

  constructor(private readonly schema: GraphQLSchema) {}

  plan(type: GraphQLInputType, limit: InputLimit): Clean | null {
    const nullable = getNullableType(type);
    if (isListType(nullable)) {
      const item = this.plan(nullable.ofType, limit);
      return (value, path) => {
        if (!Array.isArray(value)) return value;
        if (value.length > limit.maxItems) {
          throw badInput(path, `${path} has ${value.length} items: at most ${limit.maxItems} are allowed`, { limit: limit.maxItems });
        }
        return item ? value.map((v, i) => (v == null ? v : item(v, `${path}[${i}]`))) : value;
      };
    }
    if (isScalarType(nullable)) return isText(nullable.name) ? cleanText(nullable.name, limit) : (RANGE_CHECKS[nullable.name] ?? null);
    if (isInputObjectType(nullable)) return this.object(nullable.name);
    return null;
  }

  private object(name: string): Clean | null {
    if (this.objects.has(name)) return this.objects.get(name)!;
    // While the type's own fields are planned, a reference to it resolves lazily.
    this.objects.set(name, (value, path) => this.objects.get(name)!(value, path));
    const type = this.schema.getType(name);
    if (!isInputObjectType(type)) throw new Error(`${name} is not an input type`);
    const fields = Object.values(type.getFields())
      .map((f) => [f.name, this.plan(f.type, limitOf(this.schema, f))] as const)
      .filter((entry): entry is readonly [string, Clean] => entry[1] !== null);
    const clean = fields.length === 0 ? null : cleanFields(fields);
    this.objects.set(name, clean);
    return clean;
  }

  /** The cleaner of a field's arguments, or null when none needs one. */
  args(args: readonly GraphQLArgument[]): ((args: Record<string, unknown>) => Record<string, unknown>) | null {
    const plans = args
      .map((a) => [a.name, this.plan(a.type, limitOf(this.schema, a))] as const)
      .filter((entry): entry is readonly [string, Clean] => entry[1] !== null);
    if (plans.length === 0) return null;
    const clean = cleanFields(plans);
    return (values) => clean(values, '') as Record<string, unknown>;
  }
}

/** Cleans the given fields of an object, copying it only when a value changed (trimmed, normalised). */
function cleanFields(fields: readonly (readonly [string, Clean])[]): Clean {
  return (value, path) => {
    if (value == null || typeof value !== 'object') return value;
    const source = value as Record<string, unknown>;
    let result = source;
    for (const [name, clean] of fields) {
      const current = source[name];
      if (current == null) continue;
      const cleaned = clean(current, path ? `${path}.${name}` : name);
      if (cleaned !== current) {
        if (result === source) result = { ...source };
        result[name] = cleaned;
      }
    }
    return result;
  };
}

/** The sentence documenting a limit, appended to the description; null when the type has no limit to state. */
export function describeLimit(type: GraphQLInputType, limit: InputLimit): string | null {
  const nullable = getNullableType(type);
  const list = isListType(nullable);
  const item = list ? getNullableType(nullable.ofType) : nullable;
  const text = isScalarType(item) && isText(item.name);
  const parts: string[] = [];
  if (list) parts.push(`At most ${limit.maxItems} items`);
  if (text) {
    parts.push(`${list ? 'each at most' : 'At most'} ${limit.maxLength ?? DEFAULT_MAX_LENGTH[item.name]} characters`);
    parts.push(limit.multiline ? 'line breaks allowed' : 'one line');
    if (limit.trim) parts.push('surrounding spaces trimmed');
  }
  if (isScalarType(item) && (item.name === 'Date' || item.name === 'DateTime')) parts.push(`From ${DATE_RANGE.min} to ${DATE_RANGE.max}`);
  if (isScalarType(item) && item.name === 'Decimal') parts.push(`At most ${DECIMAL_MAXIMUM}`);
  return parts.length === 0 ? null : `${parts.join(', ')}.`;
}

function withLimit(description: string | null | undefined, sentence: string | null): string | null | undefined {
  if (!sentence) return description;
  return description ? `${description.trimEnd()} ${sentence}` : sentence;
}

/**
 * The same cleaning for one value of an input type outside a request (the
 * SIS file loader checks each record of a file on its own): returns the
 * cleaned value or throws BAD_USER_INPUT naming `path`.
 */
export function inputCleaner(schema: GraphQLSchema, typeName: string): (value: unknown, path: string) => unknown {
  const clean = new Planner(schema).plan(schema.getType(typeName) as GraphQLInputType, { maxItems: DEFAULT_MAX_ITEMS, trim: false, multiline: false });
  return clean ?? ((value) => value);
}

/**
 * Every field with arguments resolves with its arguments cleaned, and every
 * argument and input field documents its limit. Apply before the field guard
 * (policy/field-guard.ts), which then runs first.
 */
export function applyInputHygiene(schema: GraphQLSchema): GraphQLSchema {
  const planner = new Planner(schema);
  return mapSchema(schema, {
    [MapperKind.INPUT_OBJECT_FIELD]: (field) => ({ ...field, description: withLimit(field.description, describeLimit(field.type, limitOf(schema, field))) }),
    [MapperKind.ARGUMENT]: (arg) => ({ ...arg, description: withLimit(arg.description, describeLimit(arg.type, limitOf(schema, arg))) }),
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      const type = schema.getType(typeName);
      const clean = isObjectType(type) ? planner.args(type.getFields()[fieldName].args) : null;
      if (!clean) return field;
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      const { subscribe } = field;
      return {
        ...field,
        resolve: (source, args, ctx, info) => resolve(source, clean(args), ctx, info),
        ...(subscribe ? { subscribe: (source: unknown, args: Record<string, unknown>, ctx: unknown, info: GraphQLResolveInfo) => subscribe(source, clean(args), ctx, info) } : {}),
      };
    },
  });
}
