import type { DataSource } from 'typeorm';
import type { InstitutionFixture } from '../support/fixtures';
import type { GraphQLResponse, TestApp } from '../support/test-app';

/** The mutation as a partner sends it, with every outcome field. */
export const SYNC = `
  mutation($records: [ExternalUserInput!]!, $matchOn: SyncMatchInput, $owner: String!, $dryRun: Boolean!) {
    syncExternalUsers(records: $records, matchOn: $matchOn, externalOwner: $owner, dryRun: $dryRun) {
      dryRun created updated unchanged failed
      failures { position primaryIdentifier outcome code message field }
      results { position primaryIdentifier outcome userId code message field }
    }
  }`;

export interface SyncCall {
  matchOn?: Record<string, unknown>;
  owner?: string;
  dryRun?: boolean;
  token?: string;
  apiKey?: string;
}

/** Sends syncExternalUsers as a staff token or an API key. */
export async function sync(app: TestApp, records: Record<string, unknown>[], call: SyncCall = {}): Promise<GraphQLResponse> {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(call.token ? { authorization: `Bearer ${call.token}` } : {}),
      ...(call.apiKey ? { 'x-api-key': call.apiKey } : {}),
    },
    body: JSON.stringify({ query: SYNC, variables: { records, matchOn: call.matchOn ?? null, owner: call.owner ?? 'SIS', dryRun: call.dryRun ?? false } }),
  });
  return (await res.json()) as GraphQLResponse;
}

/** An SIS record of a student, with overrides. */
export function student(n: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    primaryIdentifier: `stu${n}`,
    firstName: 'Student',
    lastName: `Number${n}`,
    userGroup: 'UNDERGRAD',
    campus: 'NORTH',
    expiryDate: '2030-06-30',
    purgeDate: '2031-06-30',
    identifiers: [{ type: 'UNIV_ID', value: `U${n}` }],
    emails: [{ address: `stu${n}@example.edu`, type: 'SCHOOL' }],
    ...overrides,
  };
}

/** The codes SIS records in these tests refer to, beyond the fixture institution's. */
export async function configureSisCodes(db: DataSource, inst: InstitutionFixture): Promise<void> {
  const codes: [string, string][] = [['NOTE_TYPE', 'CIRCULATION'], ['STATISTIC_CATEGORY', 'HIST'], ['STATISTIC_CATEGORY', 'MATH'], ['USER_GROUP', 'GRAD']];
  await db.query(
    `INSERT INTO code_value (institution_id, kind, code, description) SELECT $1, k, c, c FROM unnest($2::text[], $3::text[]) AS t(k, c)
     ON CONFLICT DO NOTHING`,
    [inst.id, codes.map((c) => c[0]), codes.map((c) => c[1])],
  );
}

/**
 * Everything stored about the institution's external users, without ids and times, in a stable order: two loads that end in
 * the same state dump the same text.
 */
export async function dumpUsers(db: DataSource, institutionId: string): Promise<string> {
  const rows = await db.query(
    `SELECT u.primary_identifier, u.record_type, u.account_type, u.external_owner, u.first_name, u.middle_name, u.last_name,
            u.preferred_first_name, u.user_group, u.campus, u.status, u.expiry_date::text, u.purge_date::text, u.kept_fields, u.sis_values,
            (SELECT array_agg(i.id_type || ':' || i.value || ':' || i.is_external ORDER BY i.value) FROM user_identifier i WHERE i.user_id = u.id) AS identifiers,
            (SELECT array_agg(e.address || ':' || e.is_preferred || ':' || e.is_external ORDER BY e.address) FROM user_email e WHERE e.user_id = u.id) AS emails,
            (SELECT array_agg(a.line1 ORDER BY a.line1) FROM user_address a WHERE a.user_id = u.id) AS addresses,
            (SELECT array_agg(p.phone_number ORDER BY p.phone_number) FROM user_phone p WHERE p.user_id = u.id) AS phones,
            (SELECT array_agg(n.text ORDER BY n.text) FROM user_note n WHERE n.user_id = u.id) AS notes,
            (SELECT array_agg(s.category ORDER BY s.category) FROM user_statistic s WHERE s.user_id = u.id) AS statistics,
            (SELECT array_agg(r.role_type ORDER BY r.role_type) FROM role_assignment r WHERE r.user_id = u.id) AS roles,
            (SELECT count(*)::int FROM history_entry h WHERE h.user_id = u.id) AS history,
            (SELECT count(*)::int FROM event_outbox o WHERE o.aggregate_id = u.id) AS events
       FROM app_user u WHERE u.institution_id = $1 AND u.account_type = 'EXTERNAL' ORDER BY lower(u.primary_identifier)`,
    [institutionId],
  );
  return JSON.stringify(rows, null, 1);
}
