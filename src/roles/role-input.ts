import type { EntityManager } from 'typeorm';
import { badInput } from '../common/errors';
import { isUuid } from '../common/uuid';
import type { ScopeType } from '../db/entities';
import type { RoleInput } from '../generated/graphql';
import { findDesks, findLibraries } from '../institutions/institution.repository';
import { describeRole, RoleScopeRef, sameRole } from './role-scope';
import { roleTypeInfo } from './role-types';

/** A role input checked against the catalogue and the institution's libraries and desks. */
export interface ResolvedRole extends RoleScopeRef {
  roleType: string;
  isActive: boolean;
  expiryDate: string | null;
}

async function resolveScope(db: EntityManager, institutionId: string, input: RoleInput, field: string): Promise<RoleScopeRef> {
  const scope = input.scope!;
  const id = (value: string | null | undefined, name: string) => {
    if (!value || !isUuid(value)) throw badInput(`${field}.scope.${name}`, `A ${scope.type} scope needs a valid ${name}`);
    return value;
  };
  switch (scope.type) {
    case 'INSTITUTION':
      if (scope.libraryId || scope.deskId) throw badInput(`${field}.scope`, 'An INSTITUTION scope takes no library or desk');
      return { scopeType: 'INSTITUTION', scopeLibraryId: null, scopeDeskId: null };
    case 'LIBRARY': {
      const [library] = await findLibraries(db, institutionId, [id(scope.libraryId, 'libraryId')]);
      if (!library) throw badInput(`${field}.scope.libraryId`, 'No such library in your institution');
      if (scope.deskId) throw badInput(`${field}.scope.deskId`, 'A LIBRARY scope takes no desk');
      return { scopeType: 'LIBRARY', scopeLibraryId: library.id, scopeDeskId: null };
    }
    case 'CIRCULATION_DESK': {
      const [desk] = await findDesks(db, institutionId, [id(scope.deskId, 'deskId')]);
      if (!desk) throw badInput(`${field}.scope.deskId`, 'No such circulation desk in your institution');
      if (scope.libraryId && scope.libraryId !== desk.libraryId) throw badInput(`${field}.scope.libraryId`, 'The desk belongs to another library');
      return { scopeType: 'CIRCULATION_DESK' as ScopeType, scopeLibraryId: desk.libraryId, scopeDeskId: desk.id };
    }
  }
}

/**
 * R4.1, R4.3: the role type must be in the catalogue; a role that needs a
 * scope and has none is kept, inactive; a role that needs none (Patron)
 * applies to the institution.
 */
export async function resolveRoleInput(db: EntityManager, institutionId: string, input: RoleInput, field: string): Promise<ResolvedRole> {
  const info = roleTypeInfo(input.roleType);
  if (!info) throw badInput(`${field}.roleType`, `"${input.roleType}" is not a role type (see the roleTypes query)`);
  const expiryDate = input.expiryDate ?? null;
  // A role past its expiry date gives no right: storing one would only report a role that is not in force.
  if (expiryDate !== null && expiryDate < new Date().toISOString().slice(0, 10)) {
    throw badInput(`${field}.expiryDate`, 'The expiry date is in the past: a role is in force until its expiry date, so give today or a later day');
  }
  if (input.scope) return { roleType: info.code, ...(await resolveScope(db, institutionId, input, field)), isActive: true, expiryDate };
  if (info.needsScope) return { roleType: info.code, scopeType: null, scopeLibraryId: null, scopeDeskId: null, isActive: false, expiryDate };
  return { roleType: info.code, scopeType: 'INSTITUTION', scopeLibraryId: null, scopeDeskId: null, isActive: true, expiryDate };
}

/**
 * A list of roles (a profile's, an API key's) holds each role, a type with
 * one scope, once: a second entry would grant nothing more and hide what the
 * list means. `field` is the repeated entry's input path.
 */
export function refuseListedTwice(earlier: ResolvedRole[], role: ResolvedRole, field: string): void {
  const first = earlier.findIndex((r) => sameRole(r, role));
  if (first >= 0) throw badInput(field, `${describeRole(role)} is listed twice: ${field.replace(/\[\d+\]$/, `[${first}]`)} and ${field}`);
}
