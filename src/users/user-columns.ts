import type { ColumnRule } from '../db/columns-for';

/**
 * The columns of app_user that User fields read (db/columns-for.ts): a list page asks for a dozen of the 43, and
 * reading, parsing and dropping the password hash, four arrays and five timestamps per row cost about a tenth of its
 * server time.
 */
export const USER_COLUMNS: ColumnRule = {
  // The field guard of User fields reads the id (a user's own record); nothing else is read whatever is selected.
  always: ['id'],
  computed: {
    displayName: ['firstName', 'middleName', 'lastName', 'preferredFirstName', 'preferredMiddleName', 'preferredLastName', 'primaryIdentifier', 'purgedAt'],
    hasPassword: ['passwordHash'],
    restricted: ['isRestricted'],
    protected: ['primaryIdentifier'],
    activeNotExpired: ['status', 'expiryDate'],
    // USERNAME pictures are named by the primary identifier; the others by an identifier (a child set).
    pictureUrl: ['primaryIdentifier'],
  },
  byId: new Set([
    'identifiers', 'emails', 'addresses', 'phones', 'roles', 'blocks', 'hasActiveBlock', 'fineSummary', 'proxyFor',
    'fines', 'history', 'notes', 'proxies', 'statistics', 'loans', 'openLoanCount', 'attachments',
  ]),
};
