/**
 * The catalogue of role types, as data. `needsScope`: the role is meaningless
 * without an institution, library or desk scope and is saved inactive without
 * one (R4.3). `namedUser`: holding it (while ACTIVE) makes a user count
 * against the institution's named-user allotment (R4.4). `staff`: the role is
 * a staff role (it lets its holder log in to the staff interface).
 */
export interface RoleTypeInfo {
  code: string;
  label: string;
  needsScope: boolean;
  namedUser: boolean;
  staff: boolean;
}

const role = (code: string, label: string, opts: Partial<Omit<RoleTypeInfo, 'code' | 'label'>> = {}): RoleTypeInfo => ({
  code,
  label,
  needsScope: opts.needsScope ?? true,
  namedUser: opts.namedUser ?? true,
  staff: opts.staff ?? true,
});

export const ROLE_TYPES: readonly RoleTypeInfo[] = [
  role('PATRON', 'Patron', { needsScope: false, namedUser: false, staff: false }),
  role('TRIAL_PARTICIPANT', 'Trial Participant', { namedUser: false, staff: false }),
  role('INSTRUCTOR', 'Instructor', { namedUser: false, staff: false }),
  role('LEGANTO_COURSE_OPERATOR', 'Leganto Course Operator', { namedUser: false }),
  role('LEGANTO_INTERFACE_ADMINISTRATOR', 'Leganto Interface Administrator', { namedUser: false }),
  role('SELECTOR', 'Selector', { namedUser: false }),
  role('SELECTOR_LIMITED', 'Selector Limited', { namedUser: false }),
  role('SUPER_SELECTOR', 'Super Selector', { namedUser: false }),
  role('RIALTO_MANAGER', 'Rialto Manager', { namedUser: false }),
  role('RIALTO_ADMINISTRATOR', 'Rialto Administrator', { namedUser: false }),
  role('USER_MANAGER', 'User Manager'),
  role('USER_ADMINISTRATOR', 'User Administrator'),
  role('GENERAL_SYSTEM_ADMINISTRATOR', 'General System Administrator'),
  role('CIRCULATION_DESK_MANAGER', 'Circulation Desk Manager'),
  role('CIRCULATION_DESK_OPERATOR', 'Circulation Desk Operator'),
  role('FULFILLMENT_SERVICES_MANAGER', 'Fulfillment Services Manager'),
  role('FULFILLMENT_SERVICES_OPERATOR', 'Fulfillment Services Operator'),
  role('FULFILLMENT_ADMINISTRATOR', 'Fulfillment Administrator'),
  role('CATALOG_ADMINISTRATOR', 'Catalog Administrator'),
  role('CATALOGER', 'Cataloger'),
  role('ACQUISITIONS_OPERATOR', 'Acquisitions Operator'),
  role('COURSE_RESERVES_MANAGER', 'Course Reserves Manager'),
  // Read-only analytics: the analytics permission and nothing else (issue 14).
  role('DESIGN_ANALYTICS', 'Design Analytics'),
];

const byCode = new Map(ROLE_TYPES.map((r) => [r.code, r]));

export function roleTypeInfo(code: string): RoleTypeInfo | undefined {
  return byCode.get(code);
}
