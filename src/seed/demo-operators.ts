import { roleTypeInfo } from '../roles/role-types';
import { LIBRARY_NAMES, LibraryCode } from './demo-reference';

/** 'INSTITUTION', a library code ('MAIN') or a library's desk ('MAIN_DESK'). */
export type ScopeRef = 'INSTITUTION' | LibraryCode | `${LibraryCode}_DESK`;

export interface DemoOperator {
  identifier: string;
  firstName: string;
  lastName: string;
  roles: readonly (readonly [roleType: string, scope: ScopeRef])[];
  /** For the README and the start banner, e.g. "User Manager (institution)". */
  description: string;
}

/**
 * The accounts someone trying the demo logs in with, one per kind of operator
 * the policy distinguishes (R4.2, R5.2). They all share the admin password,
 * so there is one secret to hand out.
 */
const OPERATORS: Omit<DemoOperator, 'description'>[] = [
  { identifier: 'admin', firstName: 'Carrel', lastName: 'Administrator',
    roles: [['USER_ADMINISTRATOR', 'INSTITUTION'], ['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION']] },
  { identifier: 'circ_main', firstName: 'Morgan', lastName: 'Reyes',
    roles: [['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK'], ['FULFILLMENT_SERVICES_OPERATOR', 'MAIN']] },
  { identifier: 'circ_law', firstName: 'Harriet', lastName: 'Okonkwo', roles: [['CIRCULATION_DESK_MANAGER', 'LAW']] },
  { identifier: 'usermgr', firstName: 'Dana', lastName: 'Whitfield', roles: [['USER_MANAGER', 'INSTITUTION']] },
  { identifier: 'fso', firstName: 'Tomás', lastName: 'Lindqvist', roles: [['FULFILLMENT_SERVICES_OPERATOR', 'SCI']] },
  { identifier: 'analyst', firstName: 'Priya', lastName: 'Raman', roles: [['DESIGN_ANALYTICS', 'INSTITUTION']] },
];

function scopeLabel(scope: ScopeRef): string {
  if (scope === 'INSTITUTION') return 'institution';
  if (scope.endsWith('_DESK')) return `${LIBRARY_NAMES[scope.slice(0, -'_DESK'.length) as LibraryCode]} desk`;
  return LIBRARY_NAMES[scope as LibraryCode];
}

export const DEMO_OPERATORS: readonly DemoOperator[] = OPERATORS.map((op) => ({
  ...op,
  description: op.roles.map(([role, scope]) => `${roleTypeInfo(role)?.label ?? role} (${scopeLabel(scope)})`).join(', '),
}));
