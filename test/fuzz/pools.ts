import type { DataSource } from 'typeorm';
import { ROLE_TYPES } from '../../src/roles/role-types';
import { Gen, PoolName, Ref, FORGED_CURSORS } from './values';

/**
 * The rows a fuzz case may name, read from the database: ids of each kind of
 * row and the codes and identifier values in use, of the operators'
 * institution and of another one. Rows are listed in physical order (ctid),
 * which is the same for the same sequence of changes, so a seed replays the
 * same choices. The fuzz operators' own users, roles, key and identifiers
 * are left out: a case that took away an operator's powers (or locked its
 * login with wrong passwords) would blind the cases after it.
 */

type Pools = Record<PoolName, { own: string[]; foreign: string[] }>;

/** `kind`: a pool name; `sql`: rows (value, institution_id) of every institution. */
const ROW_POOLS: [PoolName, string][] = [
  ['user', `SELECT id::text AS value, institution_id FROM app_user WHERE primary_identifier IS NULL OR primary_identifier NOT LIKE 'fz\\_%' ORDER BY ctid`],
  ['identifier', `SELECT id::text, institution_id FROM user_identifier ORDER BY ctid`],
  ['email', `SELECT id::text, institution_id FROM user_email ORDER BY ctid`],
  ['address', `SELECT id::text, institution_id FROM user_address ORDER BY ctid`],
  ['phone', `SELECT id::text, institution_id FROM user_phone ORDER BY ctid`],
  ['note', `SELECT id::text, institution_id FROM user_note ORDER BY ctid`],
  ['block', `SELECT id::text, institution_id FROM user_block ORDER BY ctid`],
  ['statistic', `SELECT id::text, institution_id FROM user_statistic ORDER BY ctid`],
  ['fine', `SELECT id::text, institution_id FROM fine_fee ORDER BY ctid`],
  ['role', `SELECT r.id::text, r.institution_id FROM role_assignment r JOIN app_user u ON u.id = r.user_id
             WHERE u.primary_identifier IS NULL OR u.primary_identifier NOT LIKE 'fz\\_%' ORDER BY r.ctid`],
  ['profile', `SELECT id::text, institution_id FROM role_profile ORDER BY ctid`],
  ['rule', `SELECT id::text, institution_id FROM role_assignment_rule ORDER BY ctid`],
  ['proxy', `SELECT id::text, institution_id FROM proxy_link ORDER BY ctid`],
  ['apiKey', `SELECT id::text, institution_id FROM api_key WHERE name NOT LIKE 'fz\\_%' ORDER BY ctid`],
  ['library', `SELECT id::text, institution_id FROM library ORDER BY ctid`],
  ['desk', `SELECT id::text, institution_id FROM circulation_desk ORDER BY ctid`],
  ['libraryCode', `SELECT code, institution_id FROM library ORDER BY ctid`],
  ['code', `SELECT code, institution_id FROM code_value UNION ALL SELECT code, institution_id FROM fine_fee_type ORDER BY 2, 1`],
  ['identifierValue', `SELECT value, institution_id FROM user_identifier
                       UNION ALL SELECT primary_identifier, institution_id FROM app_user WHERE primary_identifier NOT LIKE 'fz\\_%' ORDER BY 2, 1`],
  ['institutionCode', `SELECT code, id AS institution_id FROM institution ORDER BY code`],
];

/** Codes that are not configuration rows but that inputs take: role types, contact and payment types. */
const FIXED_CODES = [
  ...ROLE_TYPES.map((r) => r.code), 'PERSONAL', 'WORK', 'SCHOOL', 'ALTERNATIVE', 'HOME', 'MOBILE', 'OFFICE', 'OFFICE_FAX', 'ORDER', 'CASH',
];

export class PoolSet {
  private pools = {} as Pools;

  /** `cursors`: real cursors a page returned, beside the forged ones. */
  constructor(private readonly db: DataSource, private readonly ownInstitutionId: string, private readonly cursors: string[] = []) {}

  async refresh(): Promise<void> {
    for (const [pool, sql] of ROW_POOLS) {
      const rows: { value: string; institution_id: string }[] = (await this.db.query(sql)).map((r: Record<string, string>) => {
        const [value, institution] = Object.values(r);
        return { value, institution_id: institution };
      });
      this.pools[pool] = {
        own: rows.filter((r) => r.institution_id === this.ownInstitutionId).map((r) => r.value),
        foreign: rows.filter((r) => r.institution_id !== this.ownInstitutionId).map((r) => r.value),
      };
    }
    this.pools.code.own.push(...FIXED_CODES);
    this.pools.cursor = { own: [...this.cursors, ...FORGED_CURSORS], foreign: [] };
  }

  /** The value a Ref stands for; a random-looking but fixed uuid when the pool is empty. */
  resolve(r: Ref): string {
    const pool = this.pools[r.pool];
    const rows = r.foreign && pool.foreign.length > 0 ? pool.foreign : pool.own;
    return rows.length > 0 ? rows[r.index % rows.length] : '5f0c2a54-3b7e-4c8e-9d1a-000000000000';
  }

  /** A generated value with every Ref replaced by what it stands for. */
  materialise(value: Gen): unknown {
    if (value instanceof Ref) return this.resolve(value);
    if (Array.isArray(value)) return value.map((item) => this.materialise(item));
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, item]) => [k, this.materialise(item)]));
    return value;
  }
}
