/**
 * The permission table as data (R4.2): which role types may perform each
 * action. Nothing outside this table is allowed (deny by default).
 */
export type Action = 'user.read' | 'user.create' | 'user.update';

const USER_MANAGEMENT = ['USER_MANAGER', 'USER_ADMINISTRATOR'] as const;
const CIRCULATION = ['CIRCULATION_DESK_MANAGER', 'CIRCULATION_DESK_OPERATOR'] as const;
const FULFILLMENT_VIEWERS = ['FULFILLMENT_SERVICES_OPERATOR', 'FULFILLMENT_SERVICES_MANAGER'] as const;

export const PERMISSIONS: Readonly<Record<Action, readonly string[]>> = {
  'user.read': [...USER_MANAGEMENT, ...CIRCULATION, ...FULFILLMENT_VIEWERS],
  'user.create': [...USER_MANAGEMENT],
  'user.update': [...USER_MANAGEMENT],
};

export function rolesFor(action: Action): readonly string[] {
  return PERMISSIONS[action];
}
