import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { seedDemoIfEmpty } from '../../src/seed/demo-data';
import { configureFines, givenFines } from '../fines/fine-fixtures';
import { createInstitution, createPatron, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import type { TestApp } from '../support/test-app';
import { PoolSet } from './pools';

/**
 * The world the fuzz cases run in: the demo institution (about two hundred
 * users with identifiers, contact information, notes, blocks, statistics,
 * fines, proxies, role profiles and rules), a second institution whose rows
 * no operator of the first may reach, and the five kinds of caller the cases
 * take turns as.
 */

export const OPERATORS = ['anonymous', 'deskOperator', 'lawUserAdmin', 'institutionAdmin', 'apiKey'] as const;
export type OperatorName = (typeof OPERATORS)[number];

export interface World {
  ownInstitutionId: string;
  pools: PoolSet;
  /** The HTTP headers that make a request come from each operator. */
  headers: Record<OperatorName, Record<string, string>>;
  /** Logs the staff operators in again (a case may have ended their sessions); returns those that could not. */
  relogin(): Promise<string[]>;
}

/** The demo institution as the test fixtures describe an institution: its id, code, libraries and one desk of each. */
async function demoInstitution(db: DataSource): Promise<InstitutionFixture> {
  const rows: { id: string; code: string; library_id: string; library_code: string; desk_id: string }[] = await db.query(
    `SELECT i.id, i.code, l.id AS library_id, l.code AS library_code,
            (SELECT d.id FROM circulation_desk d WHERE d.library_id = l.id ORDER BY d.code LIMIT 1) AS desk_id
       FROM institution i JOIN library l ON l.institution_id = i.id WHERE i.code = 'DEMO'`,
  );
  return {
    id: rows[0].id,
    code: rows[0].code,
    libraries: Object.fromEntries(rows.map((r) => [r.library_code, { id: r.library_id, deskId: r.desk_id }])),
  };
}

/** A second institution with a few patrons and items of each kind: the ids no operator of the demo institution may reach. */
async function otherInstitution(db: DataSource): Promise<void> {
  const other = await createInstitution(db, 'OTHER');
  await configureFines(db, other);
  for (let i = 1; i <= 3; i++) {
    const userId = await createPatron(db, other, { primaryIdentifier: `other_${i}`, identifiers: [['BARCODE', `OTHER-B${i}`]] });
    await givenFines(db, other, userId, 1, '5.00');
    await db.query(`INSERT INTO user_email (institution_id, user_id, address, email_type, is_preferred) VALUES ($1, $2, $3, 'PERSONAL', true)`,
      [other.id, userId, `other${i}@other.example`]);
    await db.query(`INSERT INTO user_note (institution_id, user_id, text, created_by) VALUES ($1, $2, 'a note of another institution', 'test')`, [other.id, userId]);
  }
  await db.query(`INSERT INTO role_profile (institution_id, name) VALUES ($1, 'Other profile')`, [other.id]);
}

export async function buildWorld(app: TestApp): Promise<World> {
  const db = app.db.dataSource;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'carrel-fuzz-'));
  try {
    await seedDemoIfEmpty(db, { adminPassword: 'Fuzz-Lantern-2026', dataDir, log: () => {} });
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const demo = await demoInstitution(db);
  await otherInstitution(db);
  const staff: Record<Exclude<OperatorName, 'anonymous' | 'apiKey'>, string> = {
    deskOperator: 'fz_desk',
    lawUserAdmin: 'fz_law_admin',
    institutionAdmin: 'fz_admin',
  };
  // Staff without the Patron role: the desk operator is the "patron-less" one the issue names.
  await createPerson(db, demo, { primaryIdentifier: staff.deskOperator, roles: [['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']] });
  await createPerson(db, demo, { primaryIdentifier: staff.lawUserAdmin, roles: [['USER_ADMINISTRATOR', 'LAW']] });
  await createPerson(db, demo, { primaryIdentifier: staff.institutionAdmin, roles: [['USER_ADMINISTRATOR', 'INSTITUTION'], ['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION']] });

  const headers = { anonymous: {} } as World['headers'];
  const relogin = async () => {
    const failed: string[] = [];
    for (const [name, identifier] of Object.entries(staff)) {
      try {
        headers[name as OperatorName] = { authorization: `Bearer ${await app.login(identifier, PASSWORD)}` };
      } catch {
        failed.push(identifier);
      }
    }
    return failed;
  };
  await relogin();

  const key = await app.gql(
    `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret } }`,
    { in: { name: 'fz_partner', roles: [{ roleType: 'USER_MANAGER', scope: { type: 'INSTITUTION' } }, { roleType: 'CIRCULATION_DESK_MANAGER', scope: { type: 'LIBRARY', libraryId: demo.libraries.LAW.id } }] } },
    headers.institutionAdmin.authorization.slice('Bearer '.length),
  );
  if (!key.data?.createApiKey) throw new Error(`the fuzz API key could not be created: ${JSON.stringify(key.errors)}`);
  headers.apiKey = { 'x-api-key': key.data.createApiKey.secret };

  // Real cursors, beside the forged ones: a client may replay them under another sort or to another operator.
  const token = headers.institutionAdmin.authorization.slice('Bearer '.length);
  const page = await app.gql(`{ users(first: 2) { pageInfo { endCursor } } permissionHistory(first: 1) { pageInfo { endCursor } } }`, {}, token);
  const cursors = [page.data?.users?.pageInfo?.endCursor, page.data?.permissionHistory?.pageInfo?.endCursor].filter((c): c is string => typeof c === 'string');

  const pools = new PoolSet(db, demo.id, cursors);
  await pools.refresh();
  return { ownInstitutionId: demo.id, pools, headers, relogin };
}
