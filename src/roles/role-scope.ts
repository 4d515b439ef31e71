import type { ScopeType } from '../db/entities';

/** A role's scope as role assignments and profile entries store it. */
export interface RoleScopeRef {
  scopeType: ScopeType | null;
  scopeLibraryId: string | null;
  scopeDeskId: string | null;
}
