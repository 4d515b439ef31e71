import { forbidden, unauthenticated } from '../common/errors';
import type { RecordType } from '../db/entities';
import type { Operator, OperatorRole } from './operator';
import { Action, grantsFor } from './permissions';
import { isProtectedAccount } from './protected-accounts';
import { coversOwner, OwnerScope, ownerScope, scopeOfRoles } from './scope';

/** What the policy needs to know about a user an action targets. */
export interface TargetUser {
  primaryIdentifier: string | null;
  recordType: RecordType;
  isRestricted: boolean;
}

/** Where something applies: the institution (library null), a library, or a desk of a library. */
export interface ScopeTarget {
  libraryId: string | null;
  deskId?: string | null;
}

/**
 * The one place that answers "may this operator do this?". Resolvers and
 * services call these guards; none decides access on its own.
 */
export interface Policy {
  /** The operator, or UNAUTHENTICATED (with the reason the token was refused, if any). */
  authenticated(): Operator;
  /** The operator when it is a staff user's session; an API key is FORBIDDEN (`what` says what it lacks). */
  staffSession(what: string): Operator;
  /** Whether the operator holds a role the permission table grants `action` to (for this target user, if given). */
  can(action: Action, target?: Pick<TargetUser, 'recordType'>): boolean;
  /** The operator, or FORBIDDEN when `can` is false. */
  assert(action: Action, target?: Pick<TargetUser, 'recordType'>): Operator;
  /**
   * Guards every change to a user: the action's grant must cover the target's
   * record type; protected accounts (R4.5) are refused to everyone; operators
   * marked "can't edit restricted users" are refused restricted users (R4.2).
   */
  assertCanChange(action: Action, target: TargetUser): Operator;
  /**
   * Refuses acting at a scope (e.g. assigning a role scoped there) that the
   * roles granting `action` do not cover. An institution scope covers
   * everything; a library or desk scope covers its library only.
   */
  assertScope(action: Action, target: ScopeTarget): void;
  /**
   * Refuses handing a role to someone else (an API key) unless the operator
   * could assign it ('role.assign' covering its scope) or holds that role type
   * at a scope covering it: nobody gives away more than they have.
   */
  assertCanGrant(role: { roleType: string; libraryId: string | null }): void;
  /**
   * R5.3: with library independence on, an owned item may be created or
   * changed only within the scopes of the roles granting `action` for the
   * item's user (a patrons-only grant gives no reach over staff users' items).
   */
  assertOwner(action: Action, libraryId: string | null, target?: Pick<TargetUser, 'recordType'>): void;
  /** Which owners' notes, blocks, fines and statistics the operator may see (R5.2). */
  ownerScope(): OwnerScope;
}

function grantingRoles(operator: Operator, action: Action, target?: Pick<TargetUser, 'recordType'>): OperatorRole[] {
  const grants = grantsFor(action);
  return operator.roles.filter((role) =>
    grants.some((g) => g.role === role.roleType && (!g.patronsOnly || !target || target.recordType === 'PUBLIC')),
  );
}

function describe(action: Action): string {
  return grantsFor(action).map((g) => (g.patronsOnly ? `${g.role} (patrons only)` : g.role)).join(', ');
}

/** `current` returns the request's operator; it can change once, when a login succeeds mid-request. */
export function createPolicy(current: () => Operator | null, authFailure?: string): Policy {
  const authenticated = (): Operator => {
    const operator = current();
    if (!operator) throw unauthenticated(authFailure);
    return operator;
  };
  const can: Policy['can'] = (action, target) => {
    const operator = current();
    return !!operator && !operator.passwordChangeRequired && grantingRoles(operator, action, target).length > 0;
  };
  const assert: Policy['assert'] = (action, target) => {
    const operator = authenticated();
    if (operator.passwordChangeRequired) throw forbidden('A password change is required before anything else: use changePassword');
    if (!can(action, target)) {
      const what = target && target.recordType !== 'PUBLIC' ? ` on a ${target.recordType} user` : '';
      throw forbidden(`Your roles do not allow ${action}${what} (needs one of: ${describe(action)})`);
    }
    return operator;
  };
  return {
    authenticated,
    staffSession(what) {
      const operator = authenticated();
      if (operator.kind !== 'USER') throw forbidden(`An API key is not a staff user: ${what}`);
      return operator;
    },
    can,
    assert,
    assertCanChange(action, target) {
      const operator = assert(action, target);
      if (isProtectedAccount(target.primaryIdentifier)) {
        throw forbidden(`${target.primaryIdentifier} is a protected account (R4.5): nobody may change it`);
      }
      if (target.isRestricted && operator.cannotEditRestricted) {
        throw forbidden('You are marked "can\'t edit restricted users" and this user is restricted (R4.2)');
      }
      return operator;
    },
    assertScope(action, target) {
      const operator = assert(action);
      if (!coversOwner(scopeOfRoles(grantingRoles(operator, action)), target.libraryId)) {
        throw forbidden('That scope is outside the scopes of the roles that allow this (R5.3)');
      }
    },
    assertCanGrant(role) {
      const operator = authenticated();
      const assignable = coversOwner(scopeOfRoles(grantingRoles(operator, 'role.assign')), role.libraryId);
      const held = coversOwner(scopeOfRoles(operator.roles.filter((r) => r.roleType === role.roleType)), role.libraryId);
      if (!assignable && !held) throw forbidden(`You may not grant ${role.roleType} there: you neither hold it nor may assign roles at that scope`);
    },
    assertOwner(action, libraryId, target) {
      const operator = assert(action, target);
      if (!operator.libraryIndependence) return;
      if (!coversOwner(scopeOfRoles(grantingRoles(operator, action, target)), libraryId)) {
        throw forbidden('That owner is outside the scopes of the roles that allow this (R5.3)');
      }
    },
    ownerScope: () => ownerScope(authenticated()),
  };
}
