import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createTokenIssuer } from '../auth/tokens';
import { contextOf, RequestContext } from '../context';
import type { Institution } from '../db/entities';
import type { RoleInput } from '../generated/graphql';
import type { Operator } from '../policy/operator';
import { DEMO_OPERATORS } from '../seed/demo-operators';

/**
 * The roles of the first administrator: those of the demo's `admin` (User
 * Administrator and General System Administrator at the institution), so a
 * production institution starts with the operator the demo shows.
 */
export const FIRST_ADMIN_ROLES: readonly RoleInput[] = DEMO_OPERATORS.find((o) => o.identifier === 'admin')!.roles.map(([roleType, scope]) => {
  if (scope !== 'INSTITUTION') throw new Error(`the demo admin's ${roleType} is scoped to ${scope}: the first administrator's roles are institution-wide`);
  return { roleType, scope: { type: 'INSTITUTION' as const } };
});

/**
 * The operator a command of `npm run carrel` acts as where no staff user or API key can (the first administrator of
 * an empty institution; unlocking the only administrator): whoever runs it holds the database, so it gets the first
 * administrator's roles. Its changes go through the services with their policy, rules, history and events,
 * attributed to `cli:<command>`. It is no staff user (kind API_KEY) and no stored key: nothing can sign in as it.
 */
export function commandLineContext(db: DataSource, institution: Institution, command: string): RequestContext {
  const operator: Operator = {
    kind: 'API_KEY',
    id: randomUUID(),
    label: `cli:${command}`,
    institutionId: institution.id,
    institutionCode: institution.code,
    libraryIndependence: institution.libraryIndependence,
    debtLimit: institution.debtLimit,
    roles: FIRST_ADMIN_ROLES.map((r) => ({ roleType: r.roleType, scopeType: 'INSTITUTION', libraryId: null, deskId: null })),
    cannotEditRestricted: false,
    passwordChangeRequired: false,
  };
  // Commands issue no tokens: the issuer gets a throwaway secret (as cli-context.ts's).
  return contextOf(db, createTokenIssuer(randomBytes(32).toString('hex'), 60), operator);
}
