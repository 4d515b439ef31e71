import type { Operator, OperatorRole } from '../../src/policy/operator';
import { PERMISSIONS } from '../../src/policy/permissions';
import { createPolicy } from '../../src/policy/policy';
import { isProtectedAccount, isTechnicalAccount } from '../../src/policy/protected-accounts';
import { staffSessionRefusal } from '../../src/policy/staff-session';
import { canSeeOwned, coversOwner, ownerScope } from '../../src/policy/scope';

const LIB_A = '00000000-0000-0000-0000-00000000000a';
const LIB_B = '00000000-0000-0000-0000-00000000000b';

function operator(roles: Partial<OperatorRole>[], extra: Partial<Operator> = {}): Operator {
  return {
    kind: 'USER', id: 'op', label: 'op', institutionId: 'inst', institutionCode: 'I', libraryIndependence: true, debtLimit: '0',
    cannotEditRestricted: false, passwordChangeRequired: false,
    roles: roles.map((r) => ({ roleType: 'USER_MANAGER', scopeType: 'INSTITUTION', libraryId: null, deskId: null, ...r })),
    ...extra,
  };
}

const errorCode = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { extensions?: { code?: string } }).extensions?.code;
  }
  return 'no error';
};

test('R4.2 deny by default: an operator without a listed role is FORBIDDEN for every action', () => {
  const policy = createPolicy(() => operator([{ roleType: 'CATALOGER' }]));
  for (const action of Object.keys(PERMISSIONS) as (keyof typeof PERMISSIONS)[]) {
    expect(errorCode(() => policy.assert(action))).toBe('FORBIDDEN');
  }
});

test('R4.2 every role the permission table lists for an action is allowed it', () => {
  for (const [action, roles] of Object.entries(PERMISSIONS) as [keyof typeof PERMISSIONS, readonly { role: string }[]][]) {
    for (const { role } of roles) expect(createPolicy(() => operator([{ roleType: role }])).can(action)).toBe(true);
  }
});

test('R4.2 circulation desk roles may create patrons but not staff users', () => {
  expect(createPolicy(() => operator([{ roleType: 'USER_MANAGER' }])).can('user.create', { recordType: 'STAFF' })).toBe(true);
  const circ = createPolicy(() => operator([{ roleType: 'CIRCULATION_DESK_OPERATOR' }]));
  expect(circ.can('user.create', { recordType: 'PUBLIC' })).toBe(true);
  expect(circ.can('user.create', { recordType: 'STAFF' })).toBe(false);
});

test('no operator is UNAUTHENTICATED, with the reason the token was refused', () => {
  const policy = createPolicy(() => null, 'The token is invalid or expired: log in again');
  expect(errorCode(() => policy.assert('user.read'))).toBe('UNAUTHENTICATED');
  expect(() => policy.authenticated()).toThrow('The token is invalid or expired');
});

test('an operator who must change password may do nothing else', () => {
  const policy = createPolicy(() => operator([{ roleType: 'USER_ADMINISTRATOR' }], { passwordChangeRequired: true }));
  expect(errorCode(() => policy.assert('user.read'))).toBe('FORBIDDEN');
});

test('R4.5 exl_*, rialto_* and leganto_guest are protected, case-insensitively; others are not', () => {
  for (const id of ['exl_impl', 'EXL_support', 'rialto_admin', 'leganto_guest']) expect(isProtectedAccount(id)).toBe(true);
  for (const id of ['admin', 'lexl_x', 'leganto_guest2', null]) expect(isProtectedAccount(id)).toBe(false);
});

test('R4.5 nobody may change a protected account, not even a User Administrator', () => {
  const policy = createPolicy(() => operator([{ roleType: 'USER_ADMINISTRATOR' }]));
  const user = (primaryIdentifier: string) => ({ primaryIdentifier, recordType: 'STAFF' as const, isRestricted: false });
  expect(errorCode(() => policy.assertCanChange('role.assign', user('exl_impl')))).toBe('FORBIDDEN');
  expect(errorCode(() => policy.assertCanChange('role.assign', user('jdoe')))).toBe('no error');
});

test('R4.5 exl_api and saas_admin are technical accounts', () => {
  expect(isTechnicalAccount('exl_api')).toBe(true);
  expect(isTechnicalAccount('saas_admin')).toBe(true);
  expect(isTechnicalAccount('exl_impl')).toBe(false);
});

test('R5.2 an institution scope covers every library', () => {
  const scope = ownerScope(operator([{ scopeType: 'INSTITUTION' }]));
  expect(coversOwner(scope, LIB_A)).toBe(true);
  expect(coversOwner(scope, LIB_B)).toBe(true);
});

test('R5.2 a library scope and a desk scope cover their own library only, plus institution-owned items', () => {
  const scope = ownerScope(operator([
    { roleType: 'CIRCULATION_DESK_OPERATOR', scopeType: 'CIRCULATION_DESK', libraryId: LIB_A, deskId: 'desk' },
  ]));
  expect(coversOwner(scope, LIB_A)).toBe(true);
  expect(coversOwner(scope, LIB_B)).toBe(false);
  expect(canSeeOwned(scope, null)).toBe(true);
});

test('R5.2 with library independence off, every owner is visible', () => {
  const scope = ownerScope(operator([{ scopeType: 'LIBRARY', libraryId: LIB_A }], { libraryIndependence: false }));
  expect(coversOwner(scope, LIB_B)).toBe(true);
});

test('R4.5 a technical account never gets a staff session, whatever its roles', () => {
  const candidate = { primaryIdentifier: 'saas_admin', recordType: 'STAFF', active: true, roles: operator([{ roleType: 'USER_ADMINISTRATOR' }]).roles };
  expect(staffSessionRefusal(candidate)).toBe('Technical accounts cannot log in as staff');
  expect(staffSessionRefusal({ ...candidate, primaryIdentifier: 'jdoe' })).toBeNull();
});

test('R1.5 an inactive or expired account, a contact, or one without a staff role gets no staff session', () => {
  const ok = { primaryIdentifier: 'jdoe', recordType: 'STAFF', active: true, roles: operator([{ roleType: 'CATALOGER' }]).roles };
  expect(staffSessionRefusal({ ...ok, active: false })).toMatch(/inactive or expired/);
  expect(staffSessionRefusal({ ...ok, recordType: 'CONTACT' })).toMatch(/Contact/);
  expect(staffSessionRefusal({ ...ok, roles: operator([{ roleType: 'PATRON' }]).roles })).toMatch(/no staff role/);
});
