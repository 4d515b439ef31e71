import { forbidden, unauthenticated } from '../common/errors';
import type { Operator } from './operator';
import { Action, rolesFor } from './permissions';
import { isProtectedAccount } from './protected-accounts';
import { OwnerScope, ownerScope } from './scope';

/**
 * The one place that answers "may this operator do this?". Resolvers and
 * services call these guards; none decides access on its own.
 */
export interface Policy {
  /** The operator, or UNAUTHENTICATED (with the reason the token was refused, if any). */
  authenticated(): Operator;
  /** Whether the operator holds a role the permission table grants `action` to. */
  can(action: Action): boolean;
  /** The operator, or FORBIDDEN when `can(action)` is false. */
  assert(action: Action): Operator;
  /** Refuses any change to a protected account (R4.5), whoever asks. */
  assertChangeable(user: { primaryIdentifier: string | null }): void;
  /** Which owners' notes, blocks, fines and statistics the operator may see (R5). */
  ownerScope(): OwnerScope;
}

/** `current` returns the request's operator; it can change once, when a login succeeds mid-request. */
export function createPolicy(current: () => Operator | null, authFailure?: string): Policy {
  const authenticated = (): Operator => {
    const operator = current();
    if (!operator) throw unauthenticated(authFailure);
    return operator;
  };
  const can = (action: Action): boolean => {
    const operator = current();
    if (!operator || operator.passwordChangeRequired) return false;
    const allowed = rolesFor(action);
    return operator.roles.some((r) => allowed.includes(r.roleType));
  };
  return {
    authenticated,
    can,
    assert(action) {
      const op = authenticated();
      if (op.passwordChangeRequired) throw forbidden('A password change is required before anything else');
      if (!can(action)) throw forbidden(`Your roles do not allow ${action} (needs one of: ${rolesFor(action).join(', ')})`);
      return op;
    },
    assertChangeable(user) {
      if (isProtectedAccount(user.primaryIdentifier)) {
        throw forbidden(`${user.primaryIdentifier} is a protected account (R4.5): nobody may change it`);
      }
    },
    ownerScope: () => ownerScope(authenticated()),
  };
}
