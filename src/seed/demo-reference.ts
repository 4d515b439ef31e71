import { randomUUID } from 'node:crypto';
import { Rows } from './insert-rows';
import { deskScope, INSTITUTION_SCOPE, libraryScope, Scope } from './row-builder';

/**
 * The demo institution's configuration: libraries, desks, code lists, fine
 * types and role profiles. Everything the generated people refer to by code
 * comes from here, so a code used in demo-users.ts is guaranteed to exist.
 */
export const DEMO_INSTITUTION_CODE = 'DEMO';

export const LIBRARY_CODES = ['MAIN', 'LAW', 'SCI'] as const;
export type LibraryCode = (typeof LIBRARY_CODES)[number];

export const LIBRARY_NAMES: Record<LibraryCode, string> = { MAIN: 'Main Library', LAW: 'Law Library', SCI: 'Science Library' };

export const CODE_VALUES = {
  USER_GROUP: [['UNDERGRAD', 'Undergraduate student'], ['GRAD', 'Graduate student'], ['FACULTY', 'Faculty'],
    ['STAFF', 'University staff'], ['ALUMNI', 'Alumni'], ['COMMUNITY', 'Community borrower']],
  JOB_CATEGORY: [['LIBRARIAN', 'Librarian'], ['CIRC_ASSISTANT', 'Circulation assistant'], ['CATALOGER', 'Cataloger'],
    ['SYSTEMS', 'Library systems'], ['ADMIN', 'Library administration']],
  CAMPUS: [['NORTH', 'North campus'], ['SOUTH', 'South campus']],
  BLOCK_TYPE: [['GENERAL', 'General block'], ['OVERDUE', 'Overdue items'], ['LOST_ITEM', 'Lost item'], ['FINE_LIMIT', 'Fine limit exceeded']],
  WAIVE_REASON: [['LIBRARY_ERROR', 'Library error'], ['GOODWILL', 'Goodwill gesture'], ['PATRON_RETURNED', 'Patron returned the item'],
    ['SYSTEM_ERROR', 'System error']],
  STATISTIC_CATEGORY: [['DEPT_HISTORY', 'History'], ['DEPT_LAW', 'Law'], ['DEPT_BIOLOGY', 'Biology'], ['DEPT_PHYSICS', 'Physics'],
    ['DEPT_ENGLISH', 'English'], ['DEPT_COMPSCI', 'Computer science'], ['DEPT_ECONOMICS', 'Economics']],
  NOTE_TYPE: [['GENERAL', 'General'], ['CIRCULATION', 'Circulation'], ['REGISTRAR', 'Registrar']],
  IDENTIFIER_TYPE: [['BARCODE', 'Barcode'], ['INST_ID', 'Institution ID'], ['UNIV_ID', 'University ID']],
} as const satisfies Record<string, readonly (readonly [string, string])[]>;

/** user_statistic.category_type for the STATISTIC_CATEGORY codes above. */
export const STATISTIC_CATEGORY_TYPE = 'FACULTY_DEPT';

export const FINE_TYPES = [
  { code: 'OVERDUEFINE', name: 'Overdue fine', allowsLibraryOwner: true, vatRate: '0.00', isCredit: false },
  { code: 'LOSTITEMREPLACEMENTFEE', name: 'Lost item replacement fee', allowsLibraryOwner: true, vatRate: '7.50', isCredit: false },
  { code: 'LOSTITEMPROCESSFEE', name: 'Lost item process fee', allowsLibraryOwner: false, vatRate: '0.00', isCredit: false },
  { code: 'CARDRENEWAL', name: 'Card renewal fee', allowsLibraryOwner: false, vatRate: '0.00', isCredit: false },
  { code: 'DAMAGEDITEMFINE', name: 'Damaged item fine', allowsLibraryOwner: true, vatRate: '0.00', isCredit: false },
  { code: 'CREDIT', name: 'Credit', allowsLibraryOwner: false, vatRate: '0.00', isCredit: true },
] as const;

export interface DemoLibrary {
  code: LibraryCode;
  name: string;
  id: string;
  deskId: string;
  scope: Scope;
  deskScope: Scope;
}

export interface DemoReference {
  institutionId: string;
  libraries: Record<LibraryCode, DemoLibrary>;
}

/** Adds the institution and its configuration to `rows`; returns the ids the people refer to. */
export function addDemoReference(rows: Rows): DemoReference {
  const institutionId = randomUUID();
  const owned = { institution_id: institutionId };
  rows.institution.push({
    id: institutionId, code: DEMO_INSTITUTION_CODE, name: 'Carrel Demo University', waiving_fines_fees_limit: 100,
    primary_identifier_regex: '^[A-Za-z0-9._-]{3,64}$', email_required: true, library_independence: true,
    named_user_allotment: 40, debt_limit: '50.00',
  });

  const libraries = {} as Record<LibraryCode, DemoLibrary>;
  for (const code of LIBRARY_CODES) {
    const lib = { code, name: LIBRARY_NAMES[code], id: randomUUID(), deskId: randomUUID() };
    libraries[code] = { ...lib, scope: libraryScope(lib.id), deskScope: deskScope(lib.id, lib.deskId) };
    rows.library.push({ id: lib.id, ...owned, code, name: lib.name });
    rows.circulation_desk.push({ id: lib.deskId, ...owned, library_id: lib.id, code: `${code}_DESK`, name: `${lib.name} circulation desk` });
  }

  for (const [kind, values] of Object.entries(CODE_VALUES)) {
    for (const [code, description] of values) rows.code_value.push({ ...owned, kind, code, description });
  }
  for (const t of FINE_TYPES) {
    rows.fine_fee_type.push({
      ...owned, code: t.code, name: t.name, allows_library_owner: t.allowsLibraryOwner, vat_rate: t.vatRate, is_credit: t.isCredit,
    });
  }

  addRoleProfiles(rows, institutionId, libraries);
  return { institutionId, libraries };
}

function addRoleProfiles(rows: Rows, institutionId: string, libraries: Record<LibraryCode, DemoLibrary>): void {
  const owned = { institution_id: institutionId };
  const profile = (name: string, description: string, entries: [string, Scope][]): string => {
    const id = randomUUID();
    rows.role_profile.push({ id, ...owned, name, description });
    for (const [roleType, scope] of entries) rows.role_profile_entry.push({ ...owned, profile_id: id, role_type: roleType, ...scope });
    return id;
  };

  const circulation = Object.values(libraries).map((lib) =>
    profile(`Circulation desk staff - ${lib.name}`, `Desk and fulfillment roles for ${lib.name}`, [
      ['CIRCULATION_DESK_OPERATOR', lib.deskScope],
      ['FULFILLMENT_SERVICES_OPERATOR', lib.scope],
    ]),
  );
  profile('User management', 'Create, edit and delete users', [['USER_MANAGER', INSTITUTION_SCOPE]]);

  // New circulation assistants start at the main library's desk (R4.3 role assignment rules).
  rows.role_assignment_rule.push({ ...owned, job_category: 'CIRC_ASSISTANT', user_group: null, profile_id: circulation[0] });
}
