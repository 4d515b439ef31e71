import type { ColumnRule } from '../db/columns-for';

/**
 * The columns of app_user that User fields read (db/columns-for.ts): a list page asks for a dozen of the 43, and
 * reading, parsing and dropping the password hash, four arrays and five timestamps per row cost about a tenth of its
 * server time.
 */
export const USER_COLUMNS: ColumnRule = {
  // What displayName, protected, activeNotExpired and the field guard read, whatever is selected.
  always: ['id', 'institutionId', 'recordType', 'accountType', 'status', 'expiryDate', 'primaryIdentifier', 'purgedAt'],
  computed: {
    displayName: ['firstName', 'middleName', 'lastName', 'preferredFirstName', 'preferredMiddleName', 'preferredLastName'],
    hasPassword: ['passwordHash'],
    restricted: ['isRestricted'],
    protected: [],
    activeNotExpired: [],
  },
  byId: new Set([
    'identifiers', 'emails', 'addresses', 'phones', 'roles', 'blocks', 'hasActiveBlock', 'fineSummary', 'proxyFor',
    'fines', 'history', 'notes', 'proxies', 'statistics',
  ]),
};
