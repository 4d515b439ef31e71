/**
 * Multi-row inserts through `unnest`: one statement and one parameter per
 * column however many rows, so a batch of thousands of rows is a single round
 * trip and never hits PostgreSQL's 65,535 bind-parameter limit.
 *
 * The column types are spelled out per table (only the columns the seed
 * writes) because unnest needs a typed array for every parameter; the keys
 * also give the row objects compile-time column-name checking.
 */
// Tables are listed in foreign-key order: insertAll writes them top to bottom.
const COLUMN_TYPES = {
  institution: {
    id: 'uuid', code: 'text', name: 'text', waiving_fines_fees_limit: 'int', primary_identifier_regex: 'text',
    email_required: 'boolean', library_independence: 'boolean', named_user_allotment: 'int', debt_limit: 'numeric',
  },
  library: { id: 'uuid', institution_id: 'uuid', code: 'text', name: 'text' },
  circulation_desk: { id: 'uuid', institution_id: 'uuid', library_id: 'uuid', code: 'text', name: 'text' },
  code_value: { institution_id: 'uuid', kind: 'text', code: 'text', description: 'text' },
  fine_fee_type: {
    institution_id: 'uuid', code: 'text', name: 'text', allows_library_owner: 'boolean', vat_rate: 'numeric', is_credit: 'boolean',
  },
  app_user: {
    id: 'uuid', institution_id: 'uuid', record_type: 'text', account_type: 'text', external_owner: 'text',
    primary_identifier: 'text', first_name: 'text', middle_name: 'text', last_name: 'text',
    preferred_first_name: 'text', preferred_middle_name: 'text', preferred_last_name: 'text', title: 'text',
    pin_number: 'text', job_category: 'text', job_description: 'text', gender: 'text', user_group: 'text', campus: 'text',
    preferred_language: 'text', status: 'text', status_date: 'timestamptz', birth_date: 'date', expiry_date: 'date',
    purge_date: 'date', last_patron_activity_date: 'date', password_hash: 'text', password_changed_at: 'timestamptz',
    is_restricted: 'boolean', cannot_edit_restricted_users: 'boolean', created_by: 'text', updated_by: 'text',
  },
  user_identifier: { institution_id: 'uuid', user_id: 'uuid', id_type: 'text', value: 'text', note: 'text', is_external: 'boolean' },
  user_email: {
    institution_id: 'uuid', user_id: 'uuid', address: 'text', email_type: 'text', is_preferred: 'boolean', is_external: 'boolean',
  },
  user_phone: {
    institution_id: 'uuid', user_id: 'uuid', phone_number: 'text', phone_type: 'text', is_preferred: 'boolean', is_external: 'boolean',
  },
  user_address: {
    institution_id: 'uuid', user_id: 'uuid', address_type: 'text', line1: 'text', line2: 'text', city: 'text',
    state_province: 'text', postal_code: 'text', country: 'text', is_preferred: 'boolean', is_external: 'boolean',
  },
  role_assignment: {
    institution_id: 'uuid', user_id: 'uuid', role_type: 'text', scope_type: 'text', scope_library_id: 'uuid',
    scope_desk_id: 'uuid', is_active: 'boolean', created_by: 'text',
  },
  role_profile: { id: 'uuid', institution_id: 'uuid', name: 'text', description: 'text' },
  role_profile_entry: {
    institution_id: 'uuid', profile_id: 'uuid', role_type: 'text', scope_type: 'text', scope_library_id: 'uuid', scope_desk_id: 'uuid',
  },
  role_assignment_rule: { institution_id: 'uuid', job_category: 'text', user_group: 'text', profile_id: 'uuid' },
  fine_fee: {
    id: 'uuid', institution_id: 'uuid', user_id: 'uuid', fine_type: 'text', owner_library_id: 'uuid', original_amount: 'numeric',
    remaining_amount: 'numeric', vat_amount: 'numeric', status: 'text', disputed: 'boolean', comment: 'text', item_barcode: 'text', created_by: 'text',
  },
  fine_fee_action: {
    institution_id: 'uuid', fine_id: 'uuid', action_type: 'text', amount: 'numeric', comment: 'text', created_by: 'text',
  },
  user_block: {
    institution_id: 'uuid', user_id: 'uuid', block_type: 'text', owner_library_id: 'uuid', note: 'text',
    expiry_date: 'timestamptz', created_by: 'text',
  },
  user_note: {
    institution_id: 'uuid', user_id: 'uuid', note_type: 'text', text: 'text', owner_library_id: 'uuid', popup: 'boolean',
    user_viewable: 'boolean', created_by: 'text',
  },
  user_statistic: {
    institution_id: 'uuid', user_id: 'uuid', category_type: 'text', category: 'text', note: 'text', owner_library_id: 'uuid',
  },
  proxy_link: { institution_id: 'uuid', proxy_user_id: 'uuid', sponsor_user_id: 'uuid', is_fulfillment: 'boolean', created_by: 'text' },
  loan: {
    institution_id: 'uuid', user_id: 'uuid', library_id: 'uuid', item_barcode: 'text', loan_date: 'timestamptz',
    due_date: 'timestamptz', returned_at: 'timestamptz',
  },
} as const;

export type Table = keyof typeof COLUMN_TYPES;
/**
 * A row to insert. A column that one row leaves out but another sets is
 * written as NULL, not as its default, so NOT NULL columns with defaults are
 * either set on every row of a table or on none (see row-builder.ts).
 */
export type Row<T extends Table> = { [C in keyof (typeof COLUMN_TYPES)[T]]?: string | number | boolean | Date | null };
export type Rows = { [T in Table]: Row<T>[] };

/** The one thing the seed needs from a connection: TypeORM's EntityManager and DataSource both fit. */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

export function emptyRows(): Rows {
  return Object.fromEntries(Object.keys(COLUMN_TYPES).map((t) => [t, []])) as unknown as Rows;
}

export async function insertRows<T extends Table>(q: Queryable, table: T, rows: Row<T>[]): Promise<void> {
  if (rows.length === 0) return;
  const types: Record<string, string> = COLUMN_TYPES[table];
  // The union of the rows' keys, so that optional columns set on only some rows are still written.
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const params = columns.map((c) => rows.map((r) => (r as Record<string, unknown>)[c] ?? null));
  const arrays = columns.map((c, i) => `$${i + 1}::${types[c]}[]`).join(', ');
  await q.query(`INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest(${arrays})`, params);
}

/**
 * Inserts every table in `rows` in an order that satisfies the foreign keys.
 * Returns the row count per table, for the log line.
 */
export async function insertAll(q: Queryable, rows: Rows): Promise<Partial<Record<Table, number>>> {
  const counts: Partial<Record<Table, number>> = {};
  for (const table of Object.keys(COLUMN_TYPES) as Table[]) {
    await insertRows(q, table, rows[table] as Row<typeof table>[]);
    if (rows[table].length > 0) counts[table] = rows[table].length;
  }
  return counts;
}
