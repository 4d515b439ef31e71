import type { Action } from './permissions';

/**
 * Which policy action guards each field of the schema: secure by default.
 * Every root field and every field of every object type is looked up here
 * when the schema is built (field-guard.ts); a field with no entry answers
 * FORBIDDEN, and a test fails until it gets one. Services still make the
 * finer decisions (record type, owner scope, the subset rule) on top.
 *
 * - 'public': anyone, without a token (login only);
 * - 'authenticated': any operator (configuration, catalogues, own session);
 * - an action: the operator must be granted it (permissions.ts); a list: any one of them;
 * - { action, ownRecord }: any one of the actions, and an operator may read
 *   its own user record (the user id `ownRecord` finds in the object);
 * - a function: the rule depends on the object (a Role of a user or of an API key).
 */
export type Access = 'public' | 'authenticated' | Action | Action[] | { action: Action | Action[]; ownRecord: (source: any) => string | null | undefined };
export type FieldAccess = Access | ((source: any) => Access);

const ownUser: Access = { action: 'user.read', ownRecord: (u: { id: string }) => u.id };
const ownItem: Access = { action: 'user.read', ownRecord: (row: { userId: string }) => row.userId };
/**
 * Who a user is (its id, identifier, names, record type, status): also part
 * of the reports that list users, so readable with a report's permission.
 * Everything else about a reported user (contacts, fines, history, proxies)
 * still needs user.read.
 */
const identity: Access = { action: ['user.read', 'report.namedUsers', 'report.staffLogin', 'report.analytics'], ownRecord: (u: { id: string }) => u.id };
/** Fines and their ledger: read on a user's record, or across users by analysts. */
const fines: Access = ['user.read', 'report.analytics'];
const IDENTITY_FIELDS = ['id', 'primaryIdentifier', 'displayName', 'firstName', 'middleName', 'lastName', 'preferredFirstName',
  'preferredMiddleName', 'preferredLastName', 'recordType', 'status'];

/** Root fields: who may ask at all. */
export const ROOT_ACCESS: Record<'Query' | 'Mutation' | 'Subscription', Record<string, Access>> = {
  Query: {
    me: 'authenticated',
    user: 'user.read',
    userByIdentifier: 'user.read',
    users: 'user.read',
    roleTypes: 'authenticated',
    libraries: 'authenticated',
    roleProfiles: 'user.read',
    roleAssignmentRules: 'user.read',
    permissionHistory: 'user.read',
    apiKeys: 'apiKey.manage',
    fineFeeTypes: 'authenticated',
    waiveReasons: 'authenticated',
    paymentMethods: 'authenticated',
    fineSettings: 'authenticated',
    namedUsersReport: 'report.namedUsers',
    staffLoginReport: 'report.staffLogin',
    // History outlives a deleted user: read by the user's id.
    userHistory: 'user.read',
    deleteUserPolicy: 'authenticated',
    // The photo server is configuration, no personal data.
    photoSettings: 'authenticated',
    // Every family of events needs user.read at least; policy/event-audience.ts filters each event on top.
    events: 'user.read',
    webhooks: 'webhook.manage',
    webhook: 'webhook.manage',
    // Past exports to the bursar: what exporting produced.
    bursarExportBatch: 'fine.export',
    bursarExportBatches: 'fine.export',
    // Analysts' reads across users: the policy's owner scope filters them in SQL (R5.2).
    fines: 'report.analytics',
    fineActions: 'report.analytics',
    fineTotals: 'report.analytics',
    userCounts: 'report.analytics',
  },
  Mutation: {
    login: 'public',
    // The operator's own password, proven by the current one.
    changePassword: 'authenticated',
    // Lifting a sign-in lockout changes the user's access: the subset rule applies in the service.
    unlockUser: 'user.setCredentials',
    // Any operator may end its own sessions; ending another user's needs user.setCredentials (checked in the service).
    endSessions: 'authenticated',
    // A partner checks a user's password; the grant's reach (patrons only for desk roles) is decided in the service.
    authenticateUser: 'user.authenticate',
    createUser: 'user.create',
    updateUser: 'user.update',
    deactivateUser: 'user.update',
    reactivateUser: 'user.update',
    toggleAccountType: 'user.toggleAccountType',
    setUserPassword: 'user.setCredentials',
    setUserPin: 'user.setCredentials',
    addIdentifier: 'user.update',
    updateIdentifier: 'user.update',
    removeIdentifier: 'user.update',
    changePrimaryIdentifier: 'user.update',
    addEmail: 'user.update',
    updateEmail: 'user.update',
    removeEmail: 'user.update',
    addAddress: 'user.update',
    updateAddress: 'user.update',
    removeAddress: 'user.update',
    addPhone: 'user.update',
    updatePhone: 'user.update',
    removePhone: 'user.update',
    addNote: 'note.manage',
    updateNote: 'note.manage',
    removeNote: 'note.manage',
    addBlock: 'block.manage',
    updateBlock: 'block.manage',
    removeBlock: 'block.manage',
    addStatistic: 'statistic.manage',
    updateStatistic: 'statistic.manage',
    removeStatistic: 'statistic.manage',
    addProxy: 'proxy.manage',
    removeProxy: 'proxy.manage',
    addFine: 'fine.manage',
    payFine: 'fine.manage',
    payFines: 'fine.manage',
    disputeFine: 'fine.manage',
    restoreFine: 'fine.manage',
    waiveFines: 'fine.waive',
    assignRole: 'role.assign',
    removeRole: 'role.assign',
    setUserRoles: 'role.assign',
    setRoleActive: 'role.assign',
    assignRoleProfile: 'role.assign',
    createRoleProfile: 'roleProfile.manage',
    updateRoleProfile: 'roleProfile.manage',
    deleteRoleProfile: 'roleProfile.manage',
    createRoleAssignmentRule: 'roleProfile.manage',
    deleteRoleAssignmentRule: 'roleProfile.manage',
    createApiKey: 'apiKey.manage',
    revokeApiKey: 'apiKey.manage',
    syncExternalUsers: 'user.sync',
    deleteUser: 'user.delete',
    purgeUser: 'user.purge',
    runPurgeJob: 'user.purgeJob',
    setDeleteUserPolicy: 'deleteUserPolicy.manage',
    createWebhook: 'webhook.manage',
    updateWebhook: 'webhook.manage',
    deleteWebhook: 'webhook.manage',
    // Circulation records loans; the lending library must be within the operator's scopes (checked in the service, R5.3).
    recordLoan: 'loan.manage',
    returnLoan: 'loan.manage',
    exportFinesToBursar: 'fine.export',
    setPhotoSettings: 'photoSettings.manage',
    removeAttachment: 'attachment.manage',
  },
  // Each event is filtered further by policy/event-audience.ts (families, owner scope).
  Subscription: {
    userChanged: 'user.read',
    fineChanged: 'user.read',
    blockOrNoteChanged: 'user.read',
    roleChanged: 'user.read',
  },
};

/** Every field of an object type, unless FIELD_ACCESS names the field. */
export const TYPE_ACCESS: Record<string, FieldAccess> = {
  // A user's record and the parts of it an operator may read of itself.
  User: ownUser,
  Identifier: ownItem,
  Email: ownItem,
  Address: ownItem,
  Phone: ownItem,
  Role: (role: { apiKeyId: string | null; webhookId?: string | null }) => (role.apiKeyId ? 'apiKey.manage' : role.webhookId ? 'webhook.manage' : ownItem),
  // What staff record about a user: never readable as one's own record.
  Block: 'user.read',
  Note: 'user.read',
  Statistic: 'user.read',
  Proxy: 'user.read',
  Fine: fines,
  FineAction: fines,
  FineSummary: 'user.read',
  Loan: 'user.read',
  HistoryEntry: 'user.read',
  HistoryConnection: 'user.read',
  HistoryEdge: 'user.read',
  UserConnection: 'user.read',
  UserEdge: 'user.read',
  DuplicateWarning: 'user.read',
  RoleProfile: 'user.read',
  RoleProfileEntry: 'user.read',
  RoleAssignmentRule: 'user.read',
  // Payloads: the action that produced them.
  CreateUserPayload: 'user.create',
  RemoveRolePayload: 'role.assign',
  WaiveFinesPayload: 'fine.waive',
  // A bursar batch lists fines and their users: only for those who may export.
  BursarExportBatch: 'fine.export',
  BursarExportLine: 'fine.export',
  BursarExportBatchConnection: 'fine.export',
  BursarExportBatchEdge: 'fine.export',
  ApiKey: 'apiKey.manage',
  CreateApiKeyPayload: 'apiKey.manage',
  Webhook: 'webhook.manage',
  WebhookDelivery: 'webhook.manage',
  WebhookDeliveryConnection: 'webhook.manage',
  WebhookDeliveryEdge: 'webhook.manage',
  DeleteWebhookPayload: 'webhook.manage',
  SyncExternalUsersPayload: 'user.sync',
  SyncRecordResult: 'user.sync',
  DeleteUserPayload: 'user.delete',
  PurgeJobReport: 'user.purgeJob',
  PurgeSkip: 'user.purgeJob',
  RemovalRefusal: 'user.purgeJob',
  // Change events (R11.3): who may receive which is decided per event by policy/event-audience.ts.
  EventChange: 'user.read',
  UserEvent: 'user.read',
  FineEvent: 'user.read',
  BlockOrNoteEvent: 'user.read',
  RoleEvent: 'user.read',
  ConfigurationEvent: 'user.read',
  EventConnection: 'user.read',
  EventEdge: 'user.read',
  // Reports: their own permission; a listed user's record still needs user.read.
  NamedUsersReport: 'report.namedUsers',
  NamedUser: 'report.namedUsers',
  StaffLoginReport: 'report.staffLogin',
  LoginAttemptEntry: 'report.staffLogin',
  // Analysts' lists and totals: their rows are fines and counts, each fine readable as above.
  FineConnection: 'report.analytics',
  FineEdge: 'report.analytics',
  FineMoneyTotals: 'report.analytics',
  FineActionConnection: 'report.analytics',
  FineActionEdge: 'report.analytics',
  FineActionTotals: 'report.analytics',
  FineTotalsRow: 'report.analytics',
  UserCountRow: 'report.analytics',
  // After a successful login the request runs as the new operator.
  LoginPayload: 'authenticated',
  // Configuration and catalogues: no personal data.
  PageInfo: 'authenticated',
  Owner: 'authenticated',
  Library: 'authenticated',
  CirculationDesk: 'authenticated',
  RoleScope: 'authenticated',
  RoleType: 'authenticated',
  FineFeeType: 'authenticated',
  WaiveReason: 'authenticated',
  FineSettings: 'authenticated',
  DeleteUserPolicy: 'authenticated',
  PhotoSettings: 'authenticated',
  // Files staff attached to a user: what staff recorded, never readable as one's own record.
  Attachment: 'user.read',
  RemoveAttachmentPayload: 'attachment.manage',
};

/** Fields whose rule differs from their type's: `Type.field`. */
export const FIELD_ACCESS: Record<string, FieldAccess> = {
  // An operator reads its own general record, identifiers, contacts and roles, not what staff recorded about it.
  'User.fines': 'user.read',
  'User.fineSummary': 'user.read',
  'User.history': 'user.read',
  'User.notes': 'user.read',
  'User.blocks': 'user.read',
  'User.hasActiveBlock': 'user.read',
  'User.statistics': 'user.read',
  'User.proxies': 'user.read',
  'User.proxyFor': 'user.read',
  'User.loans': 'user.read',
  'User.openLoanCount': 'user.read',
  'User.attachments': 'user.read',
  // Named by an identifier: readable where the identifiers are (an operator's own picture too).
  'User.pictureUrl': ownUser,
  ...Object.fromEntries(IDENTITY_FIELDS.map((field) => [`User.${field}`, identity])),
};

/**
 * Types that are reachable from a user's record yet hold no personal data;
 * every other such type must be guarded by an action (the field-coverage test
 * checks this, so a new user-data type cannot slip in as 'authenticated').
 */
export const NON_PERSONAL_TYPES: ReadonlySet<string> = new Set(['PageInfo', 'Owner', 'Library', 'CirculationDesk', 'RoleScope', 'LoginPayload']);

/**
 * Arguments whose use needs an action beyond their field's rule: `Type.field` -> the argument's path -> the action,
 * checked with the field's rule whenever the argument is given (and not empty). The users list's filters that find one
 * person (R2.3) count that person by ROLE_TYPE, CAMPUS or EXPIRY_MONTH in userCounts: reading a named user's roles,
 * groups and dates, which needs user.read (an analyst reads who a user is, not more).
 */
export const ARGUMENT_ACCESS: Record<string, Record<string, Action>> = {
  'Query.userCounts': { 'filter.identifier': 'user.read', 'filter.email': 'user.read', 'filter.name': 'user.read' },
};

/** The rule for one field: its own entry, its type's, or none (refused). */
export function accessOf(typeName: string, fieldName: string): FieldAccess | undefined {
  if (typeName === 'Query' || typeName === 'Mutation' || typeName === 'Subscription') return ROOT_ACCESS[typeName][fieldName];
  return FIELD_ACCESS[`${typeName}.${fieldName}`] ?? TYPE_ACCESS[typeName];
}
