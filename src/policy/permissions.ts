/**
 * The permission table as data (R4.2): for each action, the role types that
 * grant it, and whether the grant is limited to patrons (PUBLIC records).
 * Anything not granted here is refused: deny by default. The permission-matrix
 * test is generated from this table.
 */
export type Action =
  | 'user.read'
  | 'user.create'
  | 'user.update'
  | 'user.setCredentials'
  | 'user.toggleAccountType'
  | 'user.sync'
  | 'user.delete'
  | 'user.purge'
  | 'user.purgeJob'
  | 'deleteUserPolicy.manage'
  | 'note.manage'
  | 'block.manage'
  | 'statistic.manage'
  | 'proxy.manage'
  | 'fine.manage'
  | 'fine.waive'
  | 'role.assign'
  | 'roleProfile.manage'
  | 'apiKey.manage'
  | 'report.namedUsers'
  | 'report.staffLogin'
  | 'user.authenticate'
  | 'loan.manage'
  | 'fine.export'
  | 'webhook.manage'
  | 'photoSettings.manage'
  | 'attachment.manage'
  | 'report.analytics';

export interface Grant {
  role: string;
  /** Circulation desk roles "may manage patrons" (R4.2): their grant covers PUBLIC records only. */
  patronsOnly?: boolean;
}

const grants = (roles: readonly string[], opts: Omit<Grant, 'role'> = {}): Grant[] => roles.map((role) => ({ role, ...opts }));

const USER_MANAGEMENT = ['USER_MANAGER', 'USER_ADMINISTRATOR'] as const;
const CIRCULATION = ['CIRCULATION_DESK_MANAGER', 'CIRCULATION_DESK_OPERATOR'] as const;
// "Fulfillment Services Operator may view users but not edit them" (R4.2).
const FULFILLMENT_VIEWERS = ['FULFILLMENT_SERVICES_OPERATOR', 'FULFILLMENT_SERVICES_MANAGER'] as const;

export const PERMISSIONS: Readonly<Record<Action, readonly Grant[]>> = {
  'user.read': grants([...USER_MANAGEMENT, ...CIRCULATION, ...FULFILLMENT_VIEWERS]),
  'user.create': [...grants(USER_MANAGEMENT), ...grants(CIRCULATION, { patronsOnly: true })],
  // Editing a user covers its identifiers, contact information and status.
  'user.update': [...grants(USER_MANAGEMENT), ...grants(CIRCULATION, { patronsOnly: true })],
  // Passwords and PINs of others: the grant is only the first test; the subset rule (policy/role-power.ts)
  // then requires that the operator could grant every role the target holds.
  'user.setCredentials': [...grants(USER_MANAGEMENT), ...grants(CIRCULATION, { patronsOnly: true })],
  // R3.1: only User Manager or User Administrator toggle internal/external.
  'user.toggleAccountType': grants(USER_MANAGEMENT),
  // R3.4: synchronising external users from the SIS (usually an API key holding one of these roles).
  'user.sync': grants(USER_MANAGEMENT),
  // R10.1: only User Manager or User Administrator delete or purge, one user or (the purge job) the institution's.
  'user.delete': grants(USER_MANAGEMENT),
  'user.purge': grants(USER_MANAGEMENT),
  'user.purgeJob': grants(USER_MANAGEMENT),
  // R10.3: what a purge keeps is an institution setting.
  'deleteUserPolicy.manage': grants(['USER_ADMINISTRATOR', 'GENERAL_SYSTEM_ADMINISTRATOR']),
  // Owned items (R5.3 adds the owner-scope check on top of these grants).
  'note.manage': [...grants(USER_MANAGEMENT), ...grants(CIRCULATION, { patronsOnly: true })],
  'block.manage': [...grants(USER_MANAGEMENT), ...grants(CIRCULATION, { patronsOnly: true })],
  'statistic.manage': [...grants(USER_MANAGEMENT), ...grants(CIRCULATION, { patronsOnly: true })],
  'proxy.manage': [...grants(USER_MANAGEMENT), ...grants(CIRCULATION, { patronsOnly: true })],
  // Fines and fees (R7): charged, paid, disputed and restored at the desk. R7.1 (only Patron-role holders
  // have fines) decides which users, so no patrons-only limit here; R5.3 limits owners to the operator's scopes.
  'fine.manage': grants([...USER_MANAGEMENT, ...CIRCULATION]),
  // Waiving gives money away: a separate action, so an institution can narrow it without touching payments.
  'fine.waive': grants([...USER_MANAGEMENT, ...CIRCULATION]),
  // Roles decide who may do what: only a User Administrator hands them out.
  'role.assign': grants(['USER_ADMINISTRATOR']),
  'roleProfile.manage': grants(['USER_ADMINISTRATOR']),
  'apiKey.manage': grants(['USER_ADMINISTRATOR', 'GENERAL_SYSTEM_ADMINISTRATOR']),
  // R4.4 and R11.1: the staff login report needs the General System Administrator role.
  'report.namedUsers': grants(['USER_ADMINISTRATOR', 'GENERAL_SYSTEM_ADMINISTRATOR']),
  'report.staffLogin': grants(['GENERAL_SYSTEM_ADMINISTRATOR']),
  // A partner (discovery layer, self-check) checks a user's password. Desk and fulfilment roles serve patrons
  // at the desk, so their grant reaches PUBLIC records only; a refusal looks like a wrong password.
  'user.authenticate': [...grants(USER_MANAGEMENT), ...grants([...CIRCULATION, ...FULFILLMENT_VIEWERS], { patronsOnly: true })],
  // Loans and returns come from circulation: the desk and fulfilment roles (a circulation partner's API key
  // holds one). R5.3 limits the loan's library to the operator's scopes.
  'loan.manage': grants([...CIRCULATION, ...FULFILLMENT_VIEWERS]),
  // Handing fines to the bursar (R7.6) closes them here: administrators of fulfilment or users only.
  'fine.export': grants(['FULFILLMENT_ADMINISTRATOR', 'USER_ADMINISTRATOR', 'GENERAL_SYSTEM_ADMINISTRATOR']),
  // A webhook sends events out of Carrel, like an API key lets a partner in: the same holders.
  'webhook.manage': grants(['USER_ADMINISTRATOR', 'GENERAL_SYSTEM_ADMINISTRATOR']),
  'photoSettings.manage': grants(['USER_ADMINISTRATOR', 'GENERAL_SYSTEM_ADMINISTRATOR']),
  // Attached files (a scanned form, an ID) are edited like the rest of the user record.
  'attachment.manage': [...grants(USER_MANAGEMENT), ...grants(CIRCULATION, { patronsOnly: true })],
  // Analysts' reads across users (issue 14): lists and totals of fines, the ledger and user counts. Administrators of
  // users and of the system, and Design Analytics ("to run reports in Analytics, you need the Design Analytics role"),
  // which grants nothing else. Not institution-wide: a library-scoped analyst gets its library's totals (R5.2).
  'report.analytics': grants(['USER_ADMINISTRATOR', 'GENERAL_SYSTEM_ADMINISTRATOR', 'DESIGN_ANALYTICS']),
};

export const ACTIONS = Object.keys(PERMISSIONS) as Action[];

/**
 * Actions whose answer covers the whole institution (the reports list every
 * staff user): only a granting role scoped to the institution allows them, so
 * a library-scoped administrator cannot read institution-wide data.
 */
export const INSTITUTION_WIDE: ReadonlySet<Action> = new Set<Action>([
  'report.namedUsers', 'report.staffLogin',
  // The purge job and the delete-user policy reach every user of the institution.
  'user.purgeJob', 'deleteUserPolicy.manage',
  // The photo server is one setting of the whole institution.
  'photoSettings.manage',
]);

export function grantsFor(action: Action): readonly Grant[] {
  return PERMISSIONS[action];
}
