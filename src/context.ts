import type { DataSource } from 'typeorm';
import { authenticate } from './auth/authenticate';
import type { TokenIssuer } from './auth/tokens';
import { createLoaders, Loaders } from './loaders';
import type { Operator } from './policy/operator';
import { createPolicy, Policy } from './policy/policy';

/**
 * What every resolver receives: who is asking (through the policy), the
 * per-request loaders and the database. Apollo copies this object per
 * operation, so the parts that change on login are objects shared by the
 * copies, never reassigned properties.
 */
export interface RequestContext {
  db: DataSource;
  tokens: TokenIssuer;
  policy: Policy;
  /** Per-request DataLoaders bound to the operator's institution and scope; using them requires an operator. */
  loaders: Loaders;
  /** After a successful login, the rest of the same request (the login payload's fields) runs as the new operator. */
  actAs(operator: Operator): void;
}

export async function buildContext(db: DataSource, tokens: TokenIssuer, authorization: string | undefined): Promise<RequestContext> {
  const auth = await authenticate(db.manager, tokens, authorization);
  let operator = auth.operator;
  const policy = createPolicy(() => operator, auth.operator ? undefined : auth.failure);
  const current = {} as Loaders;
  if (operator) Object.assign(current, createLoaders(db.manager, operator));
  const loaders = new Proxy(current, {
    get(target, key) {
      policy.authenticated();
      return target[key as keyof Loaders];
    },
  });
  return {
    db,
    tokens,
    policy,
    loaders,
    actAs(next) {
      operator = next;
      Object.assign(current, createLoaders(db.manager, next));
    },
  };
}
