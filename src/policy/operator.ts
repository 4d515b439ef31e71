import type { ScopeType } from '../db/entities';

/** One active role of the operator, with its scope resolved to library and desk ids. */
export interface OperatorRole {
  roleType: string;
  scopeType: ScopeType;
  libraryId: string | null;
  deskId: string | null;
}

/**
 * Who is asking: a staff user or a partner system's API key (R11.2), or a
 * webhook receiving events (its roles decide what it receives, as a key's
 * decide what the key reads). All carry the same facts, so the policy never
 * needs to know which it is.
 */
export interface Operator {
  kind: 'USER' | 'API_KEY' | 'WEBHOOK';
  id: string;
  /** What `created_by` / `updated_by` record: the staff user's primary identifier or `api-key:<name>`. */
  label: string;
  institutionId: string;
  institutionCode: string;
  libraryIndependence: boolean;
  debtLimit: string;
  roles: OperatorRole[];
  cannotEditRestricted: boolean;
  passwordChangeRequired: boolean;
}
