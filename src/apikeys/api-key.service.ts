import { badInput, conflict, notFound } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { RequestContext } from '../context';
import type { ApiKey } from '../db/entities';
import { inTransaction } from '../db/transaction';
import { appendEvents } from '../events/outbox.repository';
import type { CreateApiKeyInput } from '../generated/graphql';
import { resolveDelegatedRoles } from '../roles/delegated-roles';
import { describeRole } from '../roles/role-scope';
import { findRolesOfApiKeys, insertRoles } from '../roles/role.repository';
import { generateSecret } from './api-key.secret';
import { findApiKeyByName, findApiKeyForUpdate, findApiKeys, insertApiKey, markRevoked } from './api-key.repository';

/**
 * API keys for partner systems (R11.2). Who may manage them is the policy's
 * decision ('apiKey.manage'); a key gets only roles its creator may grant or
 * holds itself at a scope reaching them (the subset rule,
 * policy.assertMayDelegate), so nobody can give a key more than they have.
 * Using a key is authentication's business
 * (src/auth/api-key-auth.ts); after that a key is an operator like any other.
 */

const MAX_NAME_LENGTH = 100;

export interface CreatedApiKey {
  apiKey: ApiKey;
  secret: string;
}

export function listApiKeys(ctx: RequestContext): Promise<ApiKey[]> {
  const operator = ctx.policy.assert('apiKey.manage');
  return findApiKeys(ctx.db.manager, operator.institutionId);
}

/** Whether the key is accepted now: not revoked and not expired. */
export function isApiKeyActive(key: ApiKey, now = new Date()): boolean {
  return key.revokedAt === null && (key.expiresAt === null || key.expiresAt.getTime() > now.getTime());
}

export async function createApiKey(ctx: RequestContext, input: CreateApiKeyInput): Promise<CreatedApiKey> {
  const operator = ctx.policy.assert('apiKey.manage');
  const name = input.name.trim();
  if (!name) throw badInput('input.name', 'The key needs a name');
  if (name.length > MAX_NAME_LENGTH) throw badInput('input.name', `The name is longer than ${MAX_NAME_LENGTH} characters`);
  const expiresAt = input.expiresAt ?? null;
  if (expiresAt && expiresAt.getTime() <= Date.now()) throw badInput('input.expiresAt', 'The expiry must be in the future');
  const roles = await resolveDelegatedRoles(ctx, operator.institutionId, input.roles, 'An API key');
  const { prefix, secret, hash } = generateSecret();
  return inTransaction(ctx.db, async (tx) => {
    if (await findApiKeyByName(tx, operator.institutionId, name)) {
      throw conflict(`An API key named "${name}" exists`, { field: 'input.name', value: name });
    }
    const apiKey = await insertApiKey(tx, {
      institutionId: operator.institutionId, name, keyPrefix: prefix, secretHash: hash, createdBy: operator.label, expiresAt,
    });
    const created = await insertRoles(tx, roles.map((r) => ({ ...r, institutionId: operator.institutionId, apiKeyId: apiKey.id })), operator.label);
    await appendEvents(tx, [{
      institutionId: operator.institutionId, eventType: 'API_KEY_CREATED', aggregateType: 'API_KEY', aggregateId: apiKey.id,
      payload: { name, prefix, roles: created.map(describeRole), expiresAt: expiresAt?.toISOString() ?? null },
      actor: operator.label,
    }]);
    return { apiKey, secret };
  });
}

/**
 * Revoking is final. Like removing a role, it is allowed only when the
 * operator could have given every role the key holds: a library's
 * administrator cannot cut off another library's (or the institution's)
 * partner system.
 */
export async function revokeApiKey(ctx: RequestContext, id: string): Promise<ApiKey> {
  const operator = ctx.policy.assert('apiKey.manage');
  return inTransaction(ctx.db, async (tx) => {
    const key = isUuid(id) ? await findApiKeyForUpdate(tx, operator.institutionId, id) : null;
    if (!key) throw notFound('No such API key in your institution');
    for (const role of await findRolesOfApiKeys(tx, operator.institutionId, [key.id])) ctx.policy.assertMayDelegate(role, 'id');
    if (key.revokedAt) throw conflict(`The API key "${key.name}" is already revoked`, { field: 'id' });
    const revoked = await markRevoked(tx, key);
    await appendEvents(tx, [{
      institutionId: operator.institutionId, eventType: 'API_KEY_REVOKED', aggregateType: 'API_KEY', aggregateId: key.id,
      payload: { name: key.name, prefix: key.keyPrefix }, actor: operator.label,
    }]);
    return revoked;
  });
}
