import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import argon2 from 'argon2';
import { ARGON2_OPTIONS } from '../../src/auth/password';

/**
 * Builds the rows a test needs, directly in its database, so each test reads
 * as "given this institution and these people".
 */
export const PASSWORD = 'correct horse battery';
let passwordHash: Promise<string> | undefined;
// argon2 is slow on purpose (about 180 ms of both cores per verification, one at a time behind the hash gate), and
// the suite logs in hundreds of times: the fixtures' users get a light argon2id hash. A hash carries its own
// parameters, so only logins of fixture users are cheaper; every hash the app makes still uses ARGON2_OPTIONS.
const sharedHash = () => (passwordHash ??= argon2.hash(PASSWORD, { ...ARGON2_OPTIONS, memoryCost: 1024, timeCost: 1, parallelism: 1 }));

export interface InstitutionFixture {
  id: string;
  code: string;
  libraries: Record<string, { id: string; deskId: string }>;
}

export async function createInstitution(
  db: DataSource,
  code = 'TEST',
  settings: Partial<{ emailRequired: boolean; primaryIdentifierRegex: string; emailRegex: string; debtLimit: string; libraryIndependence: boolean }> = {},
): Promise<InstitutionFixture> {
  const [inst] = await db.query(
    `INSERT INTO institution (code, name, email_required, primary_identifier_regex, email_regex, debt_limit, library_independence)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [code, `${code} University`, settings.emailRequired ?? true, settings.primaryIdentifierRegex ?? null, settings.emailRegex ?? null,
      settings.debtLimit ?? '0', settings.libraryIndependence ?? true],
  );
  const libraries: InstitutionFixture['libraries'] = {};
  for (const lib of ['MAIN', 'LAW']) {
    const [l] = await db.query(`INSERT INTO library (institution_id, code, name) VALUES ($1, $2, $3) RETURNING id`, [inst.id, lib, `${lib} library`]);
    const [d] = await db.query(`INSERT INTO circulation_desk (institution_id, library_id, code, name) VALUES ($1, $2, $3, $4) RETURNING id`,
      [inst.id, l.id, `${lib}_DESK`, `${lib} desk`]);
    libraries[lib] = { id: l.id, deskId: d.id };
  }
  const codes: [string, string][] = [
    ['USER_GROUP', 'UNDERGRAD'], ['USER_GROUP', 'STAFF'], ['JOB_CATEGORY', 'LIBRARIAN'], ['CAMPUS', 'NORTH'],
    ['IDENTIFIER_TYPE', 'BARCODE'], ['IDENTIFIER_TYPE', 'UNIV_ID'], ['BLOCK_TYPE', 'GENERAL'],
  ];
  await db.query(
    `INSERT INTO code_value (institution_id, kind, code, description) SELECT $1, k, c, c FROM unnest($2::text[], $3::text[]) AS t(k, c)`,
    [inst.id, codes.map((c) => c[0]), codes.map((c) => c[1])],
  );
  return { id: inst.id, code, libraries };
}

export interface PersonSpec {
  primaryIdentifier?: string;
  recordType?: 'PUBLIC' | 'STAFF' | 'CONTACT';
  accountType?: 'INTERNAL' | 'EXTERNAL' | 'INTERNAL_WITH_EXTERNAL_AUTH';
  firstName?: string;
  lastName?: string;
  preferredFirstName?: string | null;
  status?: 'ACTIVE' | 'INACTIVE';
  expiryDate?: string | null;
  birthDate?: string | null;
  withPassword?: boolean;
  /** [roleType, 'INSTITUTION' | library code | '<library code>_DESK'] */
  roles?: [string, string][];
  identifiers?: [type: string, value: string][];
}

/** Inserts a user with its roles and identifiers; returns its id. */
export async function createPerson(db: DataSource, inst: InstitutionFixture, spec: PersonSpec = {}): Promise<string> {
  const pid = spec.primaryIdentifier ?? `user_${crypto.randomBytes(4).toString('hex')}`;
  const [user] = await db.query(
    `INSERT INTO app_user (institution_id, record_type, account_type, primary_identifier, first_name, last_name, preferred_first_name,
                           status, expiry_date, birth_date, password_hash, created_by, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'test', 'test') RETURNING id`,
    [inst.id, spec.recordType ?? 'STAFF', spec.accountType ?? 'INTERNAL', spec.recordType === 'CONTACT' ? null : pid,
      spec.firstName ?? 'Test', spec.lastName ?? pid, spec.preferredFirstName ?? null, spec.status ?? 'ACTIVE', spec.expiryDate ?? null,
      spec.birthDate ?? null, spec.withPassword === false ? null : await sharedHash()],
  );
  for (const [roleType, scope] of spec.roles ?? []) {
    const library = scope === 'INSTITUTION' ? null : inst.libraries[scope.replace(/_DESK$/, '')];
    const scopeType = scope === 'INSTITUTION' ? 'INSTITUTION' : scope.endsWith('_DESK') ? 'CIRCULATION_DESK' : 'LIBRARY';
    await db.query(
      `INSERT INTO role_assignment (institution_id, user_id, role_type, scope_type, scope_library_id, scope_desk_id, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, 'test')`,
      [inst.id, user.id, roleType, scopeType, library?.id ?? null, scopeType === 'CIRCULATION_DESK' ? library!.deskId : null],
    );
  }
  for (const [type, value] of spec.identifiers ?? []) {
    await db.query(`INSERT INTO user_identifier (institution_id, user_id, id_type, value) VALUES ($1, $2, $3, $4)`, [inst.id, user.id, type, value]);
  }
  return user.id;
}

/** Row counts of the user tables, to prove a refused request wrote nothing. */
export async function userTableCounts(db: DataSource): Promise<Record<string, number>> {
  const tables = ['app_user', 'user_identifier', 'user_email', 'user_address', 'user_phone', 'role_assignment', 'history_entry', 'event_outbox'];
  const [row] = await db.query(`SELECT ${tables.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`);
  return row;
}

/** A patron: a PUBLIC record holding the Patron role, without a password. */
export function createPatron(db: DataSource, inst: InstitutionFixture, spec: PersonSpec = {}): Promise<string> {
  return createPerson(db, inst, { recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']], withPassword: false, ...spec });
}

/** Staff operators holding one role each, logged in through the API: identifier -> token. */
export async function loginOperators(
  app: { login(identifier: string, password: string): Promise<string>; db: { dataSource: DataSource } },
  inst: InstitutionFixture,
  operators: Record<string, [roleType: string, scope: string]>,
): Promise<Record<string, string>> {
  const tokens: Record<string, string> = {};
  for (const [identifier, role] of Object.entries(operators)) {
    await createPerson(app.db.dataSource, inst, { primaryIdentifier: identifier, roles: [role] });
    tokens[identifier] = await app.login(identifier, PASSWORD);
  }
  return tokens;
}
