import type { EntityManager } from 'typeorm';
import { User } from '../db/entities';

/**
 * Which columns of app_user a read of users needs for the User fields a query
 * selects: a list page asks for a dozen of the 43 (no password hash, no
 * arrays, no timestamps), and reading, parsing and dropping the rest cost
 * about a tenth of its server time.
 *
 * A field named like an entity property reads that column; the fields below
 * read what their resolvers use; fields resolved through a loader by the
 * user's id read nothing more. Any other field reads every column, so a field
 * added later is answered right before it is answered fast.
 */
const ALWAYS = ['id', 'institutionId', 'recordType', 'accountType', 'status', 'expiryDate', 'primaryIdentifier', 'purgedAt'];

const NAMES = ['firstName', 'middleName', 'lastName', 'preferredFirstName', 'preferredMiddleName', 'preferredLastName'];

/** Fields whose resolvers read other properties than their own name (users/user.resolvers.ts, user-edit.resolvers.ts). */
const COMPUTED: Record<string, readonly string[]> = {
  displayName: NAMES,
  hasPassword: ['passwordHash'],
  restricted: ['isRestricted'],
  protected: [],
  activeNotExpired: [],
};

/** Fields resolved by the user's id through a loader or a service. */
const BY_ID = new Set([
  '__typename', 'identifiers', 'emails', 'addresses', 'phones', 'roles', 'blocks', 'hasActiveBlock', 'fineSummary', 'proxyFor',
  'fines', 'history', 'notes', 'proxies', 'statistics',
]);

let properties: ReadonlySet<string> | null = null;

/** The User properties to read for `fields`, or null for every column. */
export function userColumnsFor(db: EntityManager, fields: ReadonlySet<string>): ReadonlySet<string> | null {
  properties ??= new Set(db.connection.getMetadata(User).columns.map((c) => c.propertyName));
  const needed = new Set(ALWAYS);
  for (const field of fields) {
    if (BY_ID.has(field)) continue;
    const computed = COMPUTED[field];
    if (computed) computed.forEach((p) => needed.add(p));
    else if (properties.has(field)) needed.add(field);
    else return null;
  }
  return needed;
}
