import type { FieldNode, GraphQLResolveInfo } from 'graphql';
import type { EntityManager } from 'typeorm';
import { fieldsAhead } from '../common/look-ahead';
import type { ChildSet } from '../db/child-rows';
import { columnsFor } from '../db/columns-for';
import { User } from '../db/entities';
import { USER_COLUMNS } from './user-columns';
import { blocksOfUser } from '../blocks/block.repository';
import { fineSummaryOfUser } from '../fines/fine.repository';
import type { Loaders } from '../loaders';
import { openLoanCountOfUser } from '../loans/loan.repository';
import { rolesOfUser } from '../roles/role.repository';
import { addressesOfUser, emailsOfUser, identifiersOfUser, phonesOfUser } from './contact.repository';
import type { UserRow } from './user.repository';

/** The loaders of a user's children, each of which a read of users can embed instead. */
type ChildKey = 'identifiersByUser' | 'emailsByUser' | 'addressesByUser' | 'phonesByUser' | 'rolesByUser' | 'blocksByUser' | 'fineSummaryByUser'
  | 'openLoanCountByUser';
type ChildOf<K extends ChildKey> = Awaited<ReturnType<Loaders[K]['load']>>;

/** A user's children read in the user's own statement, as their loader would give them. */
export type Embedded = { [K in ChildKey]?: ChildOf<K> };

/** The child sets to embed in a read of users, each with the loader it stands in for and the fields selected on it. */
export type Embedding = readonly { set: ChildSet<unknown>; key: ChildKey; fields: ReadonlySet<string> }[];

/** The child sets a read can embed (src/db/child-rows.ts), by the User field that resolves through them. */
const EMBEDDABLE: Record<string, { set: ChildSet<unknown>; key: ChildKey; reads?: readonly string[] }> = {
  identifiers: { set: identifiersOfUser, key: 'identifiersByUser' },
  // A picture is named by an identifier (pictures/picture-url.ts): its type and value, whatever else is selected.
  pictureUrl: { set: identifiersOfUser, key: 'identifiersByUser', reads: ['type', 'value'] },
  emails: { set: emailsOfUser, key: 'emailsByUser' },
  addresses: { set: addressesOfUser, key: 'addressesByUser' },
  phones: { set: phonesOfUser, key: 'phonesByUser' },
  roles: { set: rolesOfUser, key: 'rolesByUser' },
  blocks: { set: blocksOfUser, key: 'blocksByUser' },
  hasActiveBlock: { set: blocksOfUser, key: 'blocksByUser' },
  fineSummary: { set: fineSummaryOfUser, key: 'fineSummaryByUser' },
  openLoanCount: { set: openLoanCountOfUser, key: 'openLoanCountByUser' },
};

/**
 * How a read of users reads ahead for the User fields a query selects: the children it embeds and the columns it
 * reads (user-columns.ts; null: every column).
 */
export interface ReadAhead {
  embedding: Embedding;
  columns: ReadonlySet<string> | null;
}

export const NO_READ_AHEAD: ReadAhead = { embedding: [], columns: null };

/**
 * How to read ahead for the users a field returns at `path` below it (`['edges', 'node']` for `users`). Worked out
 * once per field of a parsed query (Apollo reuses the parsed document of a query text), not once per request.
 */
export function readAheadFor(db: EntityManager, info: GraphQLResolveInfo, path: readonly string[]): ReadAhead {
  const node = info.fieldNodes[0];
  let ahead = readAheads.get(node);
  if (!ahead) {
    const fields = fieldsAhead(info, path);
    ahead = { embedding: embeddingFor(fields), columns: columnsFor(db, User, USER_COLUMNS, fields.keys()) };
    readAheads.set(node, ahead);
  }
  return ahead;
}

const readAheads = new WeakMap<FieldNode, ReadAhead>();

/**
 * What to embed for the User fields a query selects: each child set once, in a fixed order (one statement text per
 * selection), with the fields selected on it by every field that reads it (blocks and hasActiveBlock share one).
 */
function embeddingFor(ahead: ReadonlyMap<string, ReadonlySet<string>>): Embedding {
  const chosen = new Map<ChildKey, { set: ChildSet<unknown>; key: ChildKey; fields: Set<string> }>();
  for (const [field, { reads, ...child }] of Object.entries(EMBEDDABLE)) {
    const fields = ahead.get(field);
    if (!fields) continue;
    const entry = chosen.get(child.key) ?? { ...child, fields: new Set<string>() };
    fields.forEach((f) => entry.fields.add(f));
    reads?.forEach((f) => entry.fields.add(f));
    chosen.set(child.key, entry);
  }
  return [...chosen.values()];
}

/**
 * A user's children of one kind: embedded in its row when the read that
 * found it read ahead, else through the request's loader. Embedded children
 * resolve synchronously, which spares graphql-js a promise per field and row.
 */
export function childrenOf<K extends ChildKey>(user: UserRow, key: K, loaders: Loaders): ChildOf<K> | Promise<ChildOf<K>> {
  const embedded = user.embedded?.[key];
  return embedded !== undefined ? (embedded as ChildOf<K>) : (loaders[key].load(user.id) as Promise<ChildOf<K>>);
}

/** `then` without a promise when the value is already there (an embedded child). */
export function whenRead<T, R>(value: T | Promise<T>, then: (value: T) => R): R | Promise<R> {
  return value instanceof Promise ? value.then(then) : then(value);
}
