import type { DataSource } from 'typeorm';
import { createInstitution, createPatron, InstitutionFixture, loginOperators } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';
import { configureFines, fineRow, fineState, givenFine, givenFines, ledgerMismatches } from './fine-fixtures';

/**
 * Issue 13 item 3: exportFinesToBursar (R7.6, R7.9) over HTTP against the real server and PostgreSQL. Every test
 * exports only fines created after it started (filter.createdAfter), so the tests of this file do not take each
 * other's fines.
 */

let app: TestApp;
let inst: InstitutionFixture;
let other: InstitutionFixture;
const t: Record<string, string> = {};
const db = (): DataSource => app.db.dataSource;

const BATCH = `id createdAt createdBy fineCount total currency jsonLines csv
  lines { fineId userPrimaryIdentifier feeType owner { institution library { code } } amount currency fineCreatedAt }`;
const EXPORT = `mutation($in: ExportFinesToBursarInput!) { exportFinesToBursar(input: $in) { ${BATCH} } }`;
const READ = `query($id: ID!) { bursarExportBatch(id: $id) { ${BATCH} } }`;
const LIST = `query($first: Int, $after: String) { bursarExportBatches(first: $first, after: $after) { edges { cursor node { id fineCount } } pageInfo { hasNextPage endCursor } } }`;
const BALANCES = `query($id: ID!) { user(id: $id) {
  fineSummary { activeBalance disputedBalance transferredBalance openCount }
  active: fines { id } transferred: fines(status: [TRANSFERRED]) { id status remainingAmount actions { type amount comment } } } }`;

const codeOf = (res: GraphQLResponse) => res.errors?.[0].extensions?.code;
let serial = 0;
const batchId = () => `B-${process.pid}-${++serial}`;

/** The database's now: fines created from here on are this test's. */
async function since(): Promise<string> {
  const [row] = await db().query(`SELECT now() AS now`);
  return (row.now as Date).toISOString();
}

async function exportAs(token: string, input: Record<string, unknown>): Promise<GraphQLResponse> {
  return app.gql(EXPORT, { in: input }, token);
}

async function exported(token: string, input: Record<string, unknown>) {
  const res = await exportAs(token, input);
  if (!res.data?.exportFinesToBursar) throw new Error(JSON.stringify(res.errors));
  return res.data.exportFinesToBursar;
}

/** Everything an export writes: fines, ledger, history, events, batches and lines. */
async function exportState() {
  const [batches] = await db().query(`SELECT (SELECT count(*)::int FROM bursar_export_batch) AS batches, (SELECT count(*)::int FROM bursar_export_line) AS lines`);
  return { ...(await fineState(db(), inst)), batches };
}

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  other = await createInstitution(db(), 'OTHER');
  await configureFines(db(), inst);
  await configureFines(db(), other);
  Object.assign(t, await loginOperators(app, inst, {
    fa_inst: ['FULFILLMENT_ADMINISTRATOR', 'INSTITUTION'], fa_main: ['FULFILLMENT_ADMINISTRATOR', 'MAIN'],
    um_bursar: ['USER_MANAGER', 'INSTITUTION'], desk_bursar: ['CIRCULATION_DESK_MANAGER', 'INSTITUTION'],
  }));
  Object.assign(t, await loginOperators(app, other, { fa_other: ['FULFILLMENT_ADMINISTRATOR', 'INSTITUTION'] }));
});
afterAll(() => app.close());

describe('what an export moves', () => {
  test('R7.9 exactly the ACTIVE fines that still owe something move to TRANSFERRED: disputed, closed, transferred fines and credits stay', async () => {
    const from = await since();
    const patron = await createPatron(db(), inst, { primaryIdentifier: 'bursar_patron1' });
    const [main] = await givenFines(db(), inst, patron, 1, '10.00', { owner: 'MAIN' });
    const [institution] = await givenFines(db(), inst, patron, 1, '5.25', { owner: null, type: 'LOSTITEMREPLACEMENTFEE' });
    const untouched = [
      await givenFine(db(), inst, patron, '7.00', { status: 'IN_DISPUTE' }),
      await givenFine(db(), inst, patron, '4.00', { status: 'CLOSED' }),
      await givenFine(db(), inst, patron, '3.00', { status: 'TRANSFERRED' }),
      await givenFine(db(), inst, patron, '-2.00', { owner: null }),
    ];
    const before = await Promise.all(untouched.map((id) => fineRow(db(), id)));
    const batch = await exported(t.fa_inst, { batchId: batchId(), filter: { createdAfter: from } });
    expect(batch).toMatchObject({ fineCount: 2, total: '15.25', currency: 'USD', createdBy: 'fa_inst' });
    expect(batch.lines.map((l: any) => l.fineId).sort()).toEqual([main, institution].sort());
    expect(batch.lines.find((l: any) => l.fineId === main)).toMatchObject({
      userPrimaryIdentifier: 'bursar_patron1', feeType: 'OVERDUEFINE', amount: '10.00', currency: 'USD', owner: { institution: false, library: { code: 'MAIN' } },
    });
    expect(batch.lines.find((l: any) => l.fineId === institution).owner).toEqual({ institution: true, library: null });
    expect(await fineRow(db(), main)).toEqual({ remaining: '10.00', status: 'TRANSFERRED' });
    expect(await Promise.all(untouched.map((id) => fineRow(db(), id)))).toEqual(before);
  });

  test('R7.7 each transferred fine gets a TRANSFER action of zero (the ledger still sums to its balance), a history entry and a FINE_TRANSFERRED event', async () => {
    const from = await since();
    const patron = await createPatron(db(), inst);
    const ids = await givenFines(db(), inst, patron, 3, '2.50', { owner: 'LAW' });
    const id = batchId();
    await exported(t.fa_inst, { batchId: id, filter: { createdAfter: from } });
    const actions = await db().query(`SELECT fine_id, amount::text, comment, created_by FROM fine_fee_action WHERE action_type = 'TRANSFER' AND fine_id = ANY($1::uuid[])`, [ids]);
    expect(actions).toHaveLength(3);
    for (const a of actions) expect(a).toMatchObject({ amount: '0.00', comment: `Bursar batch ${id}`, created_by: 'fa_inst' });
    expect(await ledgerMismatches(db(), inst)).toEqual([]);
    const events = await db().query(`SELECT aggregate_id, owner_library_id, payload FROM event_outbox WHERE event_type = 'FINE_TRANSFERRED' AND aggregate_id = ANY($1::uuid[])`, [ids]);
    expect(events).toHaveLength(3);
    expect(events[0]).toMatchObject({ owner_library_id: inst.libraries.LAW.id, payload: { batchId: id, amount: '2.50', userId: patron, changes: [{ field: 'fines', oldValue: 'OVERDUEFINE 2.50 ACTIVE', newValue: 'OVERDUEFINE 2.50 TRANSFERRED' }] } });
    const [{ n }] = await db().query(`SELECT count(*)::int AS n FROM history_entry WHERE user_id = $1 AND new_value = 'OVERDUEFINE 2.50 TRANSFERRED'`, [patron]);
    expect(n).toBe(3);
  });

  test('R5.2 FINE_TRANSFERRED events reach operators whose scope covers the fine\'s owner, not another library\'s', async () => {
    const from = await since();
    const patron = await createPatron(db(), inst);
    const fine = await givenFine(db(), inst, patron, '2.00', { owner: 'MAIN' });
    await exported(t.fa_inst, { batchId: batchId(), filter: { createdAfter: from } });
    const EVENTS = `query($u: ID) { events(first: 50, filter: { userId: $u, types: [FINE_TRANSFERRED] }) { edges { node { type ... on FineEvent { fineId } } } } }`;
    const { um_main: main, um_law: law } = await loginOperators(app, inst, { um_main: ['USER_MANAGER', 'MAIN'], um_law: ['USER_MANAGER', 'LAW'] });
    const deadline = Date.now() + 5_000;
    let seen: any[] = [];
    while (seen.length === 0 && Date.now() < deadline) seen = (await app.gql(EVENTS, { u: patron }, main)).data.events.edges;
    expect(seen.map((e: any) => e.node)).toEqual([{ type: 'FINE_TRANSFERRED', fineId: fine }]);
    expect((await app.gql(EVENTS, { u: patron }, law)).data.events.edges).toEqual([]);
  });

  test('R7.6 balances report the transferred amounts apart and the active balance drops; the TRANSFERRED filter lists them (R7.9)', async () => {
    const from = await since();
    const patron = await createPatron(db(), inst);
    const [a, b] = await givenFines(db(), inst, patron, 2, '12.00');
    await givenFine(db(), inst, patron, '8.00', { status: 'IN_DISPUTE' });
    const beforeExport = (await app.gql(BALANCES, { id: patron }, t.um_bursar)).data.user;
    expect(beforeExport.fineSummary).toEqual({ activeBalance: '24.00', disputedBalance: '8.00', transferredBalance: '0.00', openCount: 3 });
    await exported(t.fa_inst, { batchId: batchId(), filter: { createdAfter: from } });
    const after = (await app.gql(BALANCES, { id: patron }, t.um_bursar)).data.user;
    expect(after.fineSummary).toEqual({ activeBalance: '0.00', disputedBalance: '8.00', transferredBalance: '24.00', openCount: 1 });
    expect(after.active).toEqual([]);
    expect(after.transferred.map((f: any) => f.id).sort()).toEqual([a, b].sort());
    expect(after.transferred[0]).toMatchObject({ status: 'TRANSFERRED', remainingAmount: '12.00', actions: [{ type: 'CREATE' }, { type: 'TRANSFER', amount: '0.00' }] });
  });

  test('R7.8 a TRANSFERRED fine is the bursar\'s: paying or waiving it is refused', async () => {
    const from = await since();
    const patron = await createPatron(db(), inst);
    const fine = await givenFine(db(), inst, patron, '9.00');
    await exported(t.fa_inst, { batchId: batchId(), filter: { createdAfter: from } });
    const pay = await app.gql(`mutation($id: ID!) { payFine(id: $id, input: { method: CASH }) { id } }`, { id: fine }, t.desk_bursar);
    expect(codeOf(pay)).toBe('BAD_USER_INPUT');
    expect(pay.errors![0].message).toMatch(/TRANSFERRED/);
    const waive = await app.gql(`mutation($f: ID!) { waiveFines(input: { fineIds: [$f], reason: "GOODWILL" }) { count } }`, { f: fine }, t.desk_bursar);
    expect(codeOf(waive)).toBe('BAD_USER_INPUT');
    expect(await fineRow(db(), fine)).toEqual({ remaining: '9.00', status: 'TRANSFERRED' });
  });

  test('R7.9 the filter selects by owner, fee type, creation dates, user group and least amount', async () => {
    const from = await since();
    const undergrad = await createPatron(db(), inst);
    await db().query(`UPDATE app_user SET user_group = 'UNDERGRAD' WHERE id = $1`, [undergrad]);
    const staff = await createPatron(db(), inst);
    const [small] = await givenFines(db(), inst, undergrad, 1, '1.00');
    const [big] = await givenFines(db(), inst, undergrad, 1, '20.00');
    const [lost] = await givenFines(db(), inst, undergrad, 1, '30.00', { type: 'LOSTITEMREPLACEMENTFEE', owner: null });
    const [other] = await givenFines(db(), inst, staff, 1, '40.00');
    const ids = async (filter: Record<string, unknown>) => (await exported(t.fa_inst, { batchId: batchId(), filter: { createdAfter: from, ...filter } })).lines.map((l: any) => l.fineId);
    expect(await ids({ createdBefore: new Date(Date.parse(from) + 1).toISOString() })).toEqual([]);
    expect(await ids({ userGroup: 'UNDERGRAD', minAmount: '5.00', feeTypes: ['OVERDUEFINE'], ownerLibraryId: inst.libraries.MAIN.id })).toEqual([big]);
    expect(await ids({ userGroup: 'UNDERGRAD', feeTypes: ['LOSTITEMREPLACEMENTFEE', 'LOSTITEMREPLACEMENTFEE'] })).toEqual([lost]);
    expect((await ids({})).sort()).toEqual([small, other].sort());
  });

  test('R13.3 a batch with no fines is allowed: fineCount 0, total 0.00, a CSV with its header only', async () => {
    const batch = await exported(t.fa_inst, { batchId: batchId(), filter: { createdAfter: await since(), feeTypes: ['CREDIT'] } });
    expect(batch).toMatchObject({ fineCount: 0, total: '0.00', lines: [], jsonLines: '' });
    expect(batch.csv).toBe('userPrimaryIdentifier,fineId,feeType,owner,amount,currency,fineCreatedAt\r\n');
  });

  test('R13.3 jsonLines and csv carry the same lines; CSV fields with commas and quotes are quoted (RFC 4180)', async () => {
    const from = await since();
    const patron = await createPatron(db(), inst, { primaryIdentifier: 'o"neil,j' });
    const fine = await givenFine(db(), inst, patron, '6.10', { owner: 'LAW' });
    const batch = await exported(t.fa_inst, { batchId: batchId(), filter: { createdAfter: from } });
    const [line] = batch.jsonLines.trimEnd().split('\n').map((l: string) => JSON.parse(l));
    expect(line).toEqual({ userPrimaryIdentifier: 'o"neil,j', fineId: fine, feeType: 'OVERDUEFINE', owner: 'LAW', amount: '6.10', currency: 'USD', fineCreatedAt: batch.lines[0].fineCreatedAt });
    expect(batch.csv.split('\r\n')[1]).toBe(`"o""neil,j",${fine},OVERDUEFINE,LAW,6.10,USD,${batch.lines[0].fineCreatedAt}`);
  });

  test('R10.3 a batch keeps no personal data: once its user is deleted, a line has no primary identifier', async () => {
    const from = await since();
    const patron = await createPatron(db(), inst, { primaryIdentifier: 'bursar_gone' });
    await givenFine(db(), inst, patron, '3.00');
    const id = batchId();
    await exported(t.fa_inst, { batchId: id, filter: { createdAfter: from } });
    // Transferred fines are no balance due here (R10.2): the user can be deleted.
    const deleted = await app.gql(`mutation($id: ID!) { deleteUser(id: $id) { deletedUserId } }`, { id: patron }, t.um_bursar);
    expect(deleted.errors).toBeUndefined();
    const batch = (await app.gql(READ, { id }, t.fa_inst)).data.bursarExportBatch;
    expect(batch.lines).toEqual([expect.objectContaining({ userPrimaryIdentifier: null, amount: '3.00' })]);
  });
});

describe('idempotent batch ids', () => {
  test('R13.3 re-running with the same batch id returns the stored batch and changes nothing, even when new fines match', async () => {
    const from = await since();
    const patron = await createPatron(db(), inst);
    await givenFines(db(), inst, patron, 2, '4.00');
    const id = batchId();
    const first = await exported(t.fa_inst, { batchId: id, filter: { createdAfter: from } });
    const late = await givenFine(db(), inst, patron, '1.00');
    const before = await exportState();
    const again = await exported(t.fa_inst, { batchId: id, filter: { createdAfter: from } });
    expect(again).toEqual(first);
    expect(await exportState()).toEqual(before);
    expect((await fineRow(db(), late)).status).toBe('ACTIVE');
  });

  test('R13.3 the same batch id with another filter is CONFLICT, nothing changed', async () => {
    const from = await since();
    const id = batchId();
    await exported(t.fa_inst, { batchId: id, filter: { createdAfter: from } });
    await givenFine(db(), inst, await createPatron(db(), inst), '1.00');
    const before = await exportState();
    const res = await exportAs(t.fa_inst, { batchId: id, filter: { createdAfter: from, minAmount: '1.00' } });
    expect(codeOf(res)).toBe('CONFLICT');
    expect(res.errors![0].extensions).toMatchObject({ field: 'input.batchId', value: id });
    expect(await exportState()).toEqual(before);
  });

  test('R13.3 two concurrent exports with the same batch id make one batch; each fine is transferred once', async () => {
    const from = await since();
    const patron = await createPatron(db(), inst);
    const ids = await givenFines(db(), inst, patron, 20, '1.50');
    const id = batchId();
    const [a, b] = await Promise.all([0, 1].map(() => exportAs(t.fa_inst, { batchId: id, filter: { createdAfter: from } })));
    expect(a.errors).toBeUndefined();
    expect(b.errors).toBeUndefined();
    expect(a.data.exportFinesToBursar).toEqual(b.data.exportFinesToBursar);
    expect(a.data.exportFinesToBursar).toMatchObject({ fineCount: 20, total: '30.00' });
    const [{ batches }] = await db().query(`SELECT count(*)::int AS batches FROM bursar_export_batch WHERE batch_id = $1`, [id]);
    expect(batches).toBe(1);
    const [{ transfers }] = await db().query(`SELECT count(*)::int AS transfers FROM fine_fee_action WHERE action_type = 'TRANSFER' AND fine_id = ANY($1::uuid[])`, [ids]);
    expect(transfers).toBe(20);
  });

  test('R13.3 two concurrent exports with different ids never transfer a fine twice', async () => {
    const from = await since();
    const ids = await givenFines(db(), inst, await createPatron(db(), inst), 30, '1.00');
    const [a, b] = await Promise.all([0, 1].map(() => exported(t.fa_inst, { batchId: batchId(), filter: { createdAfter: from } })));
    expect(a.fineCount + b.fineCount).toBe(30);
    const [{ transfers }] = await db().query(`SELECT count(*)::int AS transfers FROM fine_fee_action WHERE action_type = 'TRANSFER' AND fine_id = ANY($1::uuid[])`, [ids]);
    expect(transfers).toBe(30);
  });
});

describe('who may export, and what', () => {
  test('R5.3 a library-scoped operator exports only its library\'s fines (not another library\'s, not the institution\'s)', async () => {
    const from = await since();
    const patron = await createPatron(db(), inst);
    const [main] = await givenFines(db(), inst, patron, 1, '2.00', { owner: 'MAIN' });
    const [law] = await givenFines(db(), inst, patron, 1, '3.00', { owner: 'LAW' });
    const [institution] = await givenFines(db(), inst, patron, 1, '4.00', { owner: null });
    const batch = await exported(t.fa_main, { batchId: batchId(), filter: { createdAfter: from } });
    expect(batch.lines.map((l: any) => l.fineId)).toEqual([main]);
    expect([(await fineRow(db(), law)).status, (await fineRow(db(), institution)).status]).toEqual(['ACTIVE', 'ACTIVE']);
  });

  test('R5.2 reading an institution-wide batch, a library-scoped operator sees only the lines it may see, and counts and sums only those', async () => {
    const from = await since();
    const patron = await createPatron(db(), inst);
    await givenFines(db(), inst, patron, 1, '2.00', { owner: 'MAIN' });
    await givenFines(db(), inst, patron, 1, '3.00', { owner: 'LAW' });
    await givenFines(db(), inst, patron, 1, '4.00', { owner: null });
    const id = batchId();
    expect((await exported(t.fa_inst, { batchId: id, filter: { createdAfter: from } })).fineCount).toBe(3);
    const seen = (await app.gql(READ, { id }, t.fa_main)).data.bursarExportBatch;
    expect(seen).toMatchObject({ fineCount: 2, total: '6.00' });
    expect(seen.lines.map((l: any) => l.owner.library?.code ?? 'INSTITUTION').sort()).toEqual(['INSTITUTION', 'MAIN']);
    expect(seen.csv).not.toMatch(/,LAW,/);
  });

  test('R5.3 asking a library-scoped operator\'s export for another library is FORBIDDEN, nothing changed', async () => {
    const before = await exportState();
    const res = await exportAs(t.fa_main, { batchId: batchId(), filter: { ownerLibraryId: inst.libraries.LAW.id } });
    expect(codeOf(res)).toBe('FORBIDDEN');
    expect(await exportState()).toEqual(before);
  });

  test('R13.3 without fine.export (a User Manager, a circulation desk manager) export and the batch queries are FORBIDDEN', async () => {
    const id = batchId();
    await exported(t.fa_inst, { batchId: id, filter: { createdAfter: await since() } });
    const before = await exportState();
    for (const token of [t.um_bursar, t.desk_bursar]) {
      expect(codeOf(await exportAs(token, { batchId: batchId() }))).toBe('FORBIDDEN');
      expect(codeOf(await app.gql(READ, { id }, token))).toBe('FORBIDDEN');
      expect(codeOf(await app.gql(LIST, {}, token))).toBe('FORBIDDEN');
    }
    expect(codeOf(await app.gql(EXPORT, { in: {} }))).toBe('UNAUTHENTICATED');
    expect(await exportState()).toEqual(before);
  });

  test('R13.3 another institution\'s export takes none of our fines, and our batches are not found there', async () => {
    const from = await since();
    const fine = await givenFine(db(), inst, await createPatron(db(), inst), '5.00');
    const id = batchId();
    const theirs = await exported(t.fa_other, { batchId: id, filter: { createdAfter: from } });
    expect(theirs.fineCount).toBe(0);
    expect((await fineRow(db(), fine)).status).toBe('ACTIVE');
    // Batch ids are per institution: ours may be the same id.
    expect((await exported(t.fa_inst, { batchId: id, filter: { createdAfter: from } })).fineCount).toBe(1);
    expect((await app.gql(READ, { id: `${id}-none` }, t.fa_other)).data.bursarExportBatch).toBeNull();
    const listed = (await app.gql(LIST, { first: 100 }, t.fa_other)).data.bursarExportBatches.edges;
    expect(listed).toEqual([expect.objectContaining({ node: { id, fineCount: 0 } })]);
  });

  test('R4.5 an export leaves protected accounts\' fines alone, and restricted users\' for an operator who cannot edit them (R4.2)', async () => {
    const from = await since();
    const exl = await createPatron(db(), inst, { primaryIdentifier: 'exl_bursar' });
    const restricted = await createPatron(db(), inst);
    await db().query(`UPDATE app_user SET is_restricted = true WHERE id = $1`, [restricted]);
    const plain = await createPatron(db(), inst);
    const [exlFine, restrictedFine, plainFine] = [await givenFine(db(), inst, exl, '1.00'), await givenFine(db(), inst, restricted, '2.00'), await givenFine(db(), inst, plain, '3.00')];
    const { fa_limited: limited } = await loginOperators(app, inst, { fa_limited: ['FULFILLMENT_ADMINISTRATOR', 'INSTITUTION'] });
    await db().query(`UPDATE app_user SET cannot_edit_restricted_users = true WHERE primary_identifier = 'fa_limited'`);
    const batch = await exported(limited, { batchId: batchId(), filter: { createdAfter: from } });
    expect(batch.lines.map((l: any) => l.fineId)).toEqual([plainFine]);
    const full = await exported(t.fa_inst, { batchId: batchId(), filter: { createdAfter: from } });
    expect(full.lines.map((l: any) => l.fineId)).toEqual([restrictedFine]);
    expect((await fineRow(db(), exlFine)).status).toBe('ACTIVE');
  });

  test('R13.3 batches page newest first with a cursor', async () => {
    const ids = [batchId(), batchId(), batchId()];
    for (const id of ids) await exported(t.fa_inst, { batchId: id, filter: { createdAfter: await since() } });
    const first = (await app.gql(LIST, { first: 2 }, t.fa_inst)).data.bursarExportBatches;
    expect(first.edges.map((e: any) => e.node.id)).toEqual([ids[2], ids[1]]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const next = (await app.gql(LIST, { first: 1, after: first.pageInfo.endCursor }, t.fa_inst)).data.bursarExportBatches;
    expect(next.edges.map((e: any) => e.node.id)).toEqual([ids[0]]);
    expect(codeOf(await app.gql(LIST, { first: 101 }, t.fa_inst))).toBe('BAD_USER_INPUT');
  });
});

describe('a refused export changes nothing', () => {
  test.each([
    ['an unknown fee type', { feeTypes: ['NOSUCHFEE'] }, 'input.filter.feeTypes'],
    ['an empty fee type list', { feeTypes: [] }, 'input.filter.feeTypes'],
    ['an unknown user group', { userGroup: 'NOSUCHGROUP' }, 'input.filter.userGroup'],
    ['createdAfter not before createdBefore', { createdAfter: '2026-02-01T00:00:00Z', createdBefore: '2026-01-01T00:00:00Z' }, 'input.filter.createdAfter'],
    ['a least amount of zero', { minAmount: '0' }, 'input.filter.minAmount'],
    ['a forged library id', { ownerLibraryId: "MAIN' OR 1=1" }, 'input.filter.ownerLibraryId'],
    ['another institution\'s library', { ownerLibraryId: 'OTHER' }, 'input.filter.ownerLibraryId'],
    ['a fee type with a NUL byte', { feeTypes: ['OVERDUE\u0000FINE'] }, 'input.filter.feeTypes[0]'],
    ['an overlong fee type', { feeTypes: ['X'.repeat(51)] }, 'input.filter.feeTypes[0]'],
    ['a fee type with a zero-width space', { feeTypes: ['OVERDUE\u200bFINE'] }, 'input.filter.feeTypes[0]'],
    ['51 fee types', { feeTypes: Array.from({ length: 51 }, (_v, i) => `T${i}`) }, 'input.filter.feeTypes'],
    ['a negative least amount', { minAmount: '-5.00' }, 'input.filter.minAmount'],
  ])('R13.3 %s is BAD_USER_INPUT naming the field', async (_what, filter, field) => {
    await givenFine(db(), inst, await createPatron(db(), inst), '1.00');
    const resolved = (filter as any).ownerLibraryId === 'OTHER' ? { ownerLibraryId: other.libraries.MAIN.id } : filter;
    const before = await exportState();
    const res = await exportAs(t.fa_inst, { batchId: batchId(), filter: resolved });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].extensions!.field).toBe(field);
    expect(await exportState()).toEqual(before);
  });

  test.each([
    ['with three decimals', '1.005'],
    ['in exponent notation', '1e3'],
  ])('R13.3 a least amount %s is refused by the Decimal scalar before execution, the message naming in.filter.minAmount', async (_what, minAmount) => {
    const before = await exportState();
    const res = await exportAs(t.fa_inst, { batchId: batchId(), filter: { minAmount } });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].message).toMatch(/at "in\.filter\.minAmount"; Decimal/);
    expect(await exportState()).toEqual(before);
  });

  test.each([
    ['with a space', 'batch one'],
    ['with a slash', '../../etc/passwd'],
    ['of 65 characters', 'b'.repeat(65)],
    ['with a NUL byte', 'b\u0000'],
    ['with a zero-width space', 'b\u200b1'],
    ['starting with a dash (an option to a shell command)', '-rf'],
  ])('R13.3 a batch id %s is BAD_USER_INPUT', async (_what, id) => {
    const res = await exportAs(t.fa_inst, { batchId: id });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].extensions!.field).toBe('input.batchId');
  });

  test('R13.3 over 10,000 matching fines is refused whole; exactly 10,000 are exported in one batch', async () => {
    const from = await since();
    const patron = await createPatron(db(), inst);
    await db().query(
      `WITH f AS (INSERT INTO fine_fee (institution_id, user_id, fine_type, owner_library_id, original_amount, remaining_amount, created_by)
                  SELECT $1, $2, 'OVERDUEFINE', NULL, CASE WHEN g = 1 THEN 0.50 ELSE 1.00 END, CASE WHEN g = 1 THEN 0.50 ELSE 1.00 END, 'test'
                    FROM generate_series(1, 10001) AS g RETURNING id, original_amount)
       INSERT INTO fine_fee_action (institution_id, fine_id, action_type, amount, created_by) SELECT $1, id, 'CREATE', original_amount, 'test' FROM f`,
      [inst.id, patron],
    );
    const before = await exportState();
    const res = await exportAs(t.fa_inst, { batchId: batchId(), filter: { createdAfter: from } });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].extensions).toMatchObject({ field: 'input.filter', limit: 10000 });
    expect(await exportState()).toEqual(before);
    const started = Date.now();
    const batch = await exported(t.fa_inst, { batchId: batchId(), filter: { createdAfter: from, minAmount: '1.00' } });
    console.log(`exportFinesToBursar of 10,000 fines: ${Date.now() - started} ms`);
    expect(batch).toMatchObject({ fineCount: 10000, total: '10000.00' });
    expect(await ledgerMismatches(db(), inst)).toEqual([]);
  }, 60_000);
});

describe('attacks kept from the review of issue 13 item 3', () => {
  test('R11.2 a revoked bursar key is UNAUTHENTICATED: it neither exports nor reads batches, nothing changed', async () => {
    const { ua_bursar: admin } = await loginOperators(app, inst, { ua_bursar: ['USER_ADMINISTRATOR', 'INSTITUTION'] });
    const created = await app.gql(`mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { apiKey { id } secret } }`,
      { in: { name: 'revoked bursar', roles: [{ roleType: 'FULFILLMENT_ADMINISTRATOR', scope: { type: 'INSTITUTION' } }] } }, admin);
    const { apiKey, secret } = created.data.createApiKey;
    await givenFine(db(), inst, await createPatron(db(), inst), '4.00');
    expect((await app.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: apiKey.id }, admin)).errors).toBeUndefined();
    const before = await exportState();
    const asKey = (query: string, variables: Record<string, unknown>) => fetch(app.url, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': secret }, body: JSON.stringify({ query, variables }),
    }).then((r) => r.json() as Promise<GraphQLResponse>);
    expect(codeOf(await asKey(EXPORT, { in: { batchId: batchId() } }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await asKey(LIST, {}))).toBe('UNAUTHENTICATED');
    expect(await exportState()).toEqual(before);
  });

  test('R13.3 the fulfilment services roles (who may view users, not edit them) cannot export or read batches: FORBIDDEN', async () => {
    const ops = await loginOperators(app, inst, { fso_bursar: ['FULFILLMENT_SERVICES_OPERATOR', 'INSTITUTION'], fsm_bursar: ['FULFILLMENT_SERVICES_MANAGER', 'INSTITUTION'] });
    await givenFine(db(), inst, await createPatron(db(), inst), '4.00');
    const before = await exportState();
    for (const token of Object.values(ops)) {
      expect(codeOf(await exportAs(token, { batchId: batchId() }))).toBe('FORBIDDEN');
      expect(codeOf(await app.gql(LIST, {}, token))).toBe('FORBIDDEN');
    }
    expect(await exportState()).toEqual(before);
  });

  test('R7.7 a payment racing an export of the same fine: either paid first and the rest transferred, or transferred first and the payment refused; the ledger sums to the balance', async () => {
    const from = await since();
    const fine = await givenFine(db(), inst, await createPatron(db(), inst), '10.00');
    const [paid, batch] = await Promise.all([
      app.gql(`mutation($id: ID!) { payFine(id: $id, input: { method: CASH, amount: "4.00" }) { remainingAmount } }`, { id: fine }, t.desk_bursar),
      exported(t.fa_inst, { batchId: batchId(), filter: { createdAfter: from } }),
    ]);
    if (paid.data?.payFine) {
      expect(batch.lines).toEqual([expect.objectContaining({ fineId: fine, amount: '6.00' })]);
      expect(await fineRow(db(), fine)).toEqual({ remaining: '6.00', status: 'TRANSFERRED' });
    } else {
      expect(paid.errors![0].message).toMatch(/TRANSFERRED/);
      expect(batch.lines).toEqual([expect.objectContaining({ fineId: fine, amount: '10.00' })]);
      expect(await fineRow(db(), fine)).toEqual({ remaining: '10.00', status: 'TRANSFERRED' });
    }
    expect(await ledgerMismatches(db(), inst)).toEqual([]);
  });
});

test.each([
  ['a NUL byte', 'b\u0000'],
  ['65 characters', 'b'.repeat(65)],
])('R13.3 reading a batch by an id with %s is BAD_USER_INPUT naming id, never a database error', async (_what, id) => {
  const res = await app.gql(READ, { id }, t.fa_inst);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  expect(res.errors?.[0].message).toMatch(/\bid\b/);
});
