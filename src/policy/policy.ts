import { forbidden, unauthenticated } from '../common/errors';
import type { RecordType } from '../db/entities';
import { describeRole } from '../roles/role-scope';
import type { Access } from './field-access';
import type { Operator, OperatorRole } from './operator';
import { Action, grantsFor, INSTITUTION_WIDE } from './permissions';
import { isProtectedAccount } from './protected-accounts';
import { carriesPower, HeldRole, mayDelegate, mayGrant } from './role-power';
import { notProtectedAccountSql } from './protected-accounts.sql';
import { coverCondition, coversOwner, OwnerScope, ownerParam, ownerScope, scopeOfRoles } from './scope';

/** What the policy needs to know about a user an action targets. */
export interface TargetUser {
  primaryIdentifier: string | null;
  recordType: RecordType;
  isRestricted: boolean;
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
  /**
   * The operator when `userId` is its own staff user, else null: what anyone may do to itself without a grant
   * (end its own sessions: a lost laptop). Anything else done to a user goes through the checks below.
   */
  ownUser(userId: string): Operator | null;
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
   * Guards every change to who a user is allowed to be: its roles and its
   * credentials (password, PIN, account type, sign-in settings). On top of
   * assertCanChange, the subset rule: the operator must be able to grant
   * every role with power the target holds (`held`, active or not), and
   * nobody changes their own roles or credentials this way.
   */
  assertMayChangeAccess(action: Action, target: TargetUser & { id: string }, held: readonly HeldRole[]): Operator;
  /**
   * The subset rule for roles being handed out, by any path (assignRole, a
   * profile, an assignment rule): each must be a role the operator may grant
   * ('role.assign' in a scope reaching the role's: institution everything,
   * library its library and desks, desk that desk). `source` says where the
   * roles come from, for the refusal; `field` is the input path.
   */
  assertMayGrant(roles: readonly HeldRole[], source: string, field?: string): void;
  /**
   * Roles given to a user on the operator's behalf by the system (role
   * assignment rules, R4.3): roles without power are given with the save that
   * triggered them; roles with power need what assigning them directly needs
   * (assertMayChangeAccess for 'role.assign' on the user, assertMayGrant).
   */
  assertMayGrantTo(target: TargetUser & { id: string }, held: readonly HeldRole[], roles: readonly HeldRole[], source: string): void;
  /** The subset rule for API keys: a key gets only roles its creator may grant or holds itself at a scope reaching them. */
  assertMayDelegate(role: HeldRole, field?: string): void;
  /**
   * R5.3: with library independence on, an owned item may be created or
   * changed only within the scopes of the roles granting `action` for the
   * item's user (a patrons-only grant gives no reach over staff users' items).
   */
  assertOwner(action: Action, libraryId: string | null, target?: Pick<TargetUser, 'recordType'>): void;
  /** Which owners' notes, blocks, fines and statistics the operator may see (R5.2). */
  ownerScope(): OwnerScope;
  /**
   * assertCanChange and assertOwner as one SQL condition, for changing many owned items at once: rows whose owner
   * column `owner` the roles granting `action` may change (R5.3; institution-owned items only with an institution
   * scope), of users (the app_user alias `user`) the grant reaches (patrons only for patrons-only grants), never
   * protected accounts (R4.5) nor, for an operator marked "can't edit restricted users", restricted ones (R4.2).
   * Its parameters start at `$first`. FORBIDDEN without the grant.
   */
  changeCondition(action: Action, columns: { user: string; owner: string }, first: number): { sql: string; params: unknown[] };
  /** A field's rule (field-access.ts) for the object it resolves on. */
  assertField(access: Access, source: unknown): void;
}

/** The operator's roles that grant `action` (for the target's record type; at institution scope for institution-wide actions). */
function grantingRoles(operator: Operator, action: Action, target?: Pick<TargetUser, 'recordType'>): OperatorRole[] {
  const grants = grantsFor(action);
  return operator.roles.filter((role) =>
    grants.some((g) => g.role === role.roleType && (!g.patronsOnly || !target || target.recordType === 'PUBLIC'))
    && (!INSTITUTION_WIDE.has(action) || role.scopeType === 'INSTITUTION'));
}

function describe(action: Action): string {
  const roles = grantsFor(action).map((g) => (g.patronsOnly ? `${g.role} (patrons only)` : g.role)).join(', ');
  return INSTITUTION_WIDE.has(action) ? `${roles}, scoped to the institution` : roles;
}

const beyondReach = (roles: readonly HeldRole[]) => roles.map(describeRole).join(', ');

/** `current` returns the request's operator; it can change once, when a login succeeds mid-request. */
export function createPolicy(current: () => Operator | null, authFailure?: string): Policy {
  const authenticated = (): Operator => {
    const operator = current();
    if (!operator) throw unauthenticated(authFailure);
    return operator;
  };
  // Field guards ask the same target-less question for every field of a page: answer it once per operator.
  let answered: { operator: Operator; can: Map<Action, boolean> } | null = null;
  const can: Policy['can'] = (action, target) => {
    const operator = current();
    if (!operator || operator.passwordChangeRequired) return false;
    if (target) return grantingRoles(operator, action, target).length > 0;
    if (answered?.operator !== operator) answered = { operator, can: new Map() };
    let allowed = answered.can.get(action);
    if (allowed === undefined) answered.can.set(action, (allowed = grantingRoles(operator, action).length > 0));
    return allowed;
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
  const assertCanChange: Policy['assertCanChange'] = (action, target) => {
    const operator = assert(action, target);
    if (isProtectedAccount(target.primaryIdentifier)) {
      throw forbidden(`${target.primaryIdentifier} is a protected account (R4.5): nobody may change it`);
    }
    if (target.isRestricted && operator.cannotEditRestricted) {
      throw forbidden('You are marked "can\'t edit restricted users" and this user is restricted (R4.2)');
    }
    return operator;
  };
  const assigners = (operator: Operator) => grantingRoles(operator, 'role.assign');
  const assertMayChangeAccess: Policy['assertMayChangeAccess'] = (action, target, held) => {
    const operator = assertCanChange(action, target);
    if (operator.kind === 'USER' && operator.id === target.id) {
      throw forbidden('Nobody changes their own roles or credentials: another administrator must (your own password: changePassword)');
    }
    const beyond = held.filter((role) => carriesPower(role) && !mayGrant(assigners(operator), role));
    if (beyond.length > 0) {
      throw forbidden(`The user holds ${beyondReach(beyond)}, which you may not grant: only an operator who could grant every role a user holds may change its roles or credentials`);
    }
    return operator;
  };
  const assertMayGrant: Policy['assertMayGrant'] = (roles, source, field) => {
    const operator = authenticated();
    const beyond = roles.filter((role) => !mayGrant(assigners(operator), role));
    if (beyond.length > 0) {
      throw forbidden(`${source} gives ${beyondReach(beyond)}, which you may not grant: a User Administrator role scoped to reach it is needed`, { field });
    }
  };
  return {
    authenticated,
    staffSession(what) {
      const operator = authenticated();
      if (operator.kind !== 'USER') throw forbidden(`An API key is not a staff user: ${what}`);
      return operator;
    },
    ownUser(userId) {
      const operator = authenticated();
      return operator.kind === 'USER' && operator.id === userId ? operator : null;
    },
    can,
    assert,
    assertCanChange,
    assertMayChangeAccess,
    assertMayGrant,
    assertMayGrantTo(target, held, roles, source) {
      const powerful = roles.filter(carriesPower);
      if (powerful.length === 0) return;
      assertMayGrant(powerful, source);
      assertMayChangeAccess('role.assign', target, held);
    },
    assertMayDelegate(role, field) {
      const operator = authenticated();
      if (!mayDelegate(assigners(operator), operator.roles, role)) {
        throw forbidden(`You may not give ${describeRole(role)}: you neither hold it nor may grant it at that scope`, { field });
      }
    },
    assertOwner(action, libraryId, target) {
      const operator = assert(action, target);
      if (!operator.libraryIndependence) return;
      if (!coversOwner(scopeOfRoles(grantingRoles(operator, action, target)), libraryId)) {
        throw forbidden('That owner is outside the scopes of the roles that allow this (R5.3)');
      }
    },
    ownerScope: () => ownerScope(authenticated()),
    changeCondition(action, { user, owner }, first) {
      const operator = assert(action);
      const scope: OwnerScope = operator.libraryIndependence ? scopeOfRoles(grantingRoles(operator, action)) : { all: true };
      const [owners, anyRecordType, restricted] = [`$${first}`, `$${first + 1}`, `$${first + 2}`];
      return {
        sql: `${coverCondition(owner, owners)} AND (${anyRecordType}::boolean OR ${user}.record_type = 'PUBLIC')
              AND ${notProtectedAccountSql(`${user}.primary_identifier`)} AND NOT (${restricted}::boolean AND ${user}.is_restricted)`,
        params: [ownerParam(scope), grantingRoles(operator, action, { recordType: 'STAFF' }).length > 0, operator.cannotEditRestricted],
      };
    },
    assertField(access, source) {
      if (access === 'public') return;
      const operator = authenticated();
      if (access === 'authenticated') return;
      if (typeof access === 'string') {
        assert(access);
        return;
      }
      if (Array.isArray(access)) {
        if (!access.some((action) => can(action))) assert(access[0]);
        return;
      }
      if (operator.kind === 'USER' && access.ownRecord(source) === operator.id) return;
      const actions = Array.isArray(access.action) ? access.action : [access.action];
      if (!actions.some((action) => can(action))) assert(actions[0]);
    },
  };
}
