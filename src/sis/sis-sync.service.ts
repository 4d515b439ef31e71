import type { EntityManager } from 'typeorm';
import { QueryFailedError } from 'typeorm';
import { badInput, conflict, isKnownError, notFound } from '../common/errors';
import type { RequestContext } from '../context';
import type { User } from '../db/entities';
import { inTransaction, translateDbError } from '../db/transaction';
import { appendEvents, DomainEvent } from '../events/outbox.repository';
import type { ExternalUserInput, SyncMatchInput, SyncOutcome } from '../generated/graphql';
import { HistoryChange, recordHistory } from '../history/history.repository';
import { lockIdentifierValues } from '../identifiers/identifier.repository';
import { findInstitution } from '../institutions/institution.repository';
import type { Operator } from '../policy/operator';
import { applyAssignmentRules } from '../roles/role.service';
import { findAssignmentRules, findRolesOf } from '../roles/role.repository';
import { SIS_TEMP_OWNER } from '../users/account-type.service';
import { checkRecordCodes, indexHeldValues, isChange, planCreate, planUpdate, recordHash, RecordPlan } from './sis-plan';
import { matchValueOf, readSisRecord, SisRecord } from './sis-record';
import {
  findHeldValues, findMatchedUsers, insertPatronRoles, insertUsers, ITEM_KINDS, loadReferenceCodes, lockStoredUsers, markSynchronised,
  ReferenceCodes, renameUsers, replaceExternalItems, updateUsers,
} from './sis-sync.repository';

/** R3.4 and the contract: a call carries at most this many records, so one transaction stays short. */
export const MAX_SYNC_RECORDS = 1000;

export interface SyncRecordResult {
  position: number;
  primaryIdentifier: string;
  outcome: SyncOutcome;
  userId: string | null;
  code: string | null;
  message: string | null;
  field: string | null;
}

export interface SyncReport {
  dryRun: boolean;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  failures: SyncRecordResult[];
  results: SyncRecordResult[];
}

export interface SyncOptions {
  matchOn?: SyncMatchInput | null;
  externalOwner: string;
  dryRun: boolean;
}

/** What a batch needs from the institution, read once per call (or once per file by the loader). */
export interface SyncReference {
  codes: ReferenceCodes;
  /** (job category, user group) pairs some role assignment rule reacts to (R4.3). */
  rules: { jobCategory: string | null; userGroup: string | null }[];
  institution: NonNullable<Awaited<ReturnType<typeof findInstitution>>>;
}

export async function loadSyncReference(ctx: RequestContext): Promise<SyncReference> {
  const operator = ctx.policy.assert('user.sync');
  const institution = await findInstitution(ctx.db.manager, operator.institutionId);
  if (!institution) throw notFound('The operator’s institution no longer exists');
  const rules = await findAssignmentRules(ctx.db.manager, institution.id);
  return { codes: await loadReferenceCodes(ctx.db.manager, institution.id), rules, institution };
}

const failure = (position: number, primaryIdentifier: string, e: { message: string; extensions?: Record<string, unknown> }): SyncRecordResult => ({
  position, primaryIdentifier, outcome: 'FAILED', userId: null,
  code: String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'), message: e.message, field: (e.extensions?.field as string | undefined) ?? null,
});

const outcome = (record: SisRecord, kind: SyncOutcome, userId: string): SyncRecordResult => ({
  position: record.position, primaryIdentifier: record.primaryIdentifier, outcome: kind, userId, code: null, message: null, field: null,
});

/**
 * A fault that belongs to one record rather than to the batch: a refusal the
 * domain raised while writing (a role rule beyond the operator's grant), or a
 * constraint the database enforced (a concurrent load took an identifier
 * first). Anything else (a lost connection, a timeout) fails the call.
 */
function recordFault(e: unknown): { message: string; extensions?: Record<string, unknown> } | null {
  if (isKnownError(e)) return e;
  if (e instanceof QueryFailedError) {
    const code = String((e.driverError as { code?: string }).code ?? '');
    if (code.startsWith('23')) return translateDbError(e) as { message: string; extensions?: Record<string, unknown> };
    if (code.startsWith('22')) return badInput('records', 'A value of this record is out of range for the database');
  }
  return null;
}

function checkOptions(options: SyncOptions, reference: SyncReference): string | null {
  const owner = options.externalOwner.trim();
  if (!owner) throw badInput('externalOwner', 'The external system needs a code');
  if (owner === SIS_TEMP_OWNER) throw badInput('externalOwner', `${SIS_TEMP_OWNER} marks accounts for the next synchronisation (R3.2); it is not a system`);
  if ((options.matchOn?.key ?? 'PRIMARY_IDENTIFIER') === 'PRIMARY_IDENTIFIER') return null;
  const type = options.matchOn?.identifierType?.trim();
  if (!type) throw badInput('matchOn.identifierType', 'Matching on an identifier type needs the type');
  if (!reference.codes.codes.get('IDENTIFIER_TYPE')?.has(type)) throw badInput('matchOn.identifierType', `"${type}" is not a configured identifier type`);
  return type;
}

/** The key a record is matched on: its primary identifier lower-cased, or its identifier of the match type. */
const matchKeyOf = (record: SisRecord, identifierType: string | null) =>
  (identifierType === null ? record.primaryIdentifier.toLowerCase() : matchValueOf(record, identifierType));

/**
 * R2.2 within one batch: a value two records claim goes to the first; the
 * later record fails, as it would had the first been loaded in an earlier call.
 */
function claimBatchValues(record: SisRecord, claims: Map<string, number>): void {
  const values = [`p:${record.primaryIdentifier.toLowerCase()}`, ...record.items.identifiers.flatMap((i) => [`a:${i.value}`, `p:${i.value.toLowerCase()}`])];
  for (const value of values) {
    const earlier = claims.get(value);
    if (earlier !== undefined && earlier !== record.position) {
      throw conflict(`An identifier of this record is also in records[${earlier}] of this batch`, { field: record.path, value: value.slice(2) });
    }
  }
  for (const value of values) claims.set(value, record.position);
}

/** A user as applyAssignmentRules and the policy read it. */
const asUser = (id: string, institutionId: string, plan: RecordPlan) => ({
  id, institutionId, primaryIdentifier: plan.record.primaryIdentifier, recordType: plan.row.recordType,
  jobCategory: plan.row.jobCategory, userGroup: plan.row.userGroup, isRestricted: plan.user?.isRestricted ?? false,
}) as User;

/**
 * Plans the records against what is stored; each refusal is that record's.
 * A record whose digest is the one last applied to a user nobody changed
 * since is unchanged at once; the others are compared field by field.
 */
async function planRecords(ctx: RequestContext, tx: EntityManager, operator: Operator, records: SisRecord[], identifierType: string | null, owner: string) {
  const institutionId = operator.institutionId;
  // Two loads of the same new users at once: without the values' locks, a load could match nothing, then see the other
  // load's users commit and find their identifiers held by "another user".
  await lockIdentifierValues(tx, institutionId, records.flatMap((r) => [r.primaryIdentifier, ...r.items.identifiers.map((i) => i.value)]));
  const keys = records.map((r) => matchKeyOf(r, identifierType));
  const hashes = new Map(records.map((r) => [r, recordHash(r)]));
  const matched = await findMatchedUsers(tx, institutionId, identifierType, keys, records.map((r) => hashes.get(r)!));
  const byKey = new Map(matched.map((u) => [u.matchKey, u]));
  const unchanged: SyncRecordResult[] = [];
  const failures: SyncRecordResult[] = [];
  // Matched on an identifier type, two records may find one user holding two identifiers of that type: the first
  // decides, the later one is refused, as two records claiming one identifier are (claimBatchValues).
  const matchedBy = new Map<string, SisRecord>();
  const compared = records.filter((record, i) => {
    const user = byKey.get(keys[i]);
    const earlier = user && matchedBy.get(user.id);
    if (earlier) {
      failures.push(failure(record.position, record.primaryIdentifier,
        conflict(`This record matches the same user as records[${earlier.position}] of this batch`, { field: record.path })));
      return false;
    }
    if (user) matchedBy.set(user.id, record);
    if (!user?.fresh || user.accountType !== 'EXTERNAL' || user.externalOwner !== owner) return true;
    unchanged.push(outcome(record, 'UNCHANGED', user.id));
    return false;
  });
  const stored = new Map((await lockStoredUsers(tx, institutionId, compared.flatMap((r) => byKey.get(matchKeyOf(r, identifierType))?.id ?? []))).map((u) => [u.id, u]));
  const storedOf = (record: SisRecord) => stored.get(byKey.get(matchKeyOf(record, identifierType))?.id ?? '');
  // Values the matched user holds itself are nobody else's (the identifier indexes and trigger keep them unique): only
  // the others are looked up.
  const primaries: string[] = [];
  const additional: string[] = [];
  for (const record of compared) {
    const user = storedOf(record);
    if (user?.primaryIdentifier.toLowerCase() !== record.primaryIdentifier.toLowerCase()) primaries.push(record.primaryIdentifier.toLowerCase());
    for (const { value } of record.items.identifiers) if (!user?.items.identifiers.some((i) => i.value === value)) additional.push(value);
  }
  const held = indexHeldValues(await findHeldValues(tx, institutionId, primaries, additional));
  const plans: RecordPlan[] = [];
  for (const record of compared) {
    try {
      const user = storedOf(record);
      if (user) {
        ctx.policy.assertCanChange('user.sync', user);
        if (user.accountType !== 'EXTERNAL') {
          throw conflict(`${user.primaryIdentifier} is an ${user.accountType} account: toggle it to EXTERNAL (R3.1) to let the SIS manage it`, { field: record.path });
        }
        if (user.externalOwner !== owner && user.externalOwner !== SIS_TEMP_OWNER) {
          throw conflict(`${user.primaryIdentifier} belongs to the external system ${user.externalOwner}, not ${owner}`, { field: record.path });
        }
      }
      const plan = user ? planUpdate(record, hashes.get(record)!, user, held, owner) : planCreate(record, hashes.get(record)!, held);
      // R5.3: the SIS's notes and statistics are owned by the institution; writing them needs a role whose scope reaches it.
      for (const { kind } of plan.items) {
        if (kind === 'notes' || kind === 'statistics') ctx.policy.assertOwner(kind === 'notes' ? 'note.manage' : 'statistic.manage', null, plan.row);
      }
      plans.push(plan);
    } catch (e) {
      if (!isKnownError(e)) throw e;
      failures.push(failure(record.position, record.primaryIdentifier, e));
    }
  }
  // A PIN is a credential: the SIS's key may change it only where it could change the user's access (the subset rule).
  const pinChanges = plans.filter((p) => p.user && p.changedFields.includes('pinNumber'));
  if (pinChanges.length === 0) return { plans, failures, unchanged };
  const roles = await findRolesOf(tx, institutionId, pinChanges.map((p) => p.user!.id));
  const refused = new Set<RecordPlan>();
  for (const plan of pinChanges) {
    try {
      ctx.policy.assertMayChangeAccess('user.sync', plan.user!, roles.filter((r) => r.userId === plan.user!.id));
    } catch (e) {
      if (!isKnownError(e)) throw e;
      refused.add(plan);
      failures.push(failure(plan.record.position, plan.record.primaryIdentifier, e));
    }
  }
  return { plans: plans.filter((p) => !refused.has(p)), failures, unchanged };
}

/** Writes the plans set-based: a fixed number of statements for the whole batch. Returns each record's outcome. */
async function writePlans(ctx: RequestContext, tx: EntityManager, operator: Operator, plans: RecordPlan[], owner: string, reference: SyncReference) {
  const institutionId = operator.institutionId;
  const creates = plans.filter((p) => !p.user);
  const updates = plans.filter((p) => p.user && isChange(p));
  const createdIds = await insertUsers(tx, institutionId, owner, operator.label, creates.map((p) => p.row));
  const idOf = (p: RecordPlan) => p.user?.id ?? createdIds.get(p.record.primaryIdentifier.toLowerCase())!;
  await updateUsers(tx, owner, operator.label, updates.map((p) => ({ ...p.row, id: p.user!.id })));
  await renameUsers(tx, updates.filter((p) => p.changedFields.includes('primaryIdentifier')).map((p) => ({ id: p.user!.id, primaryIdentifier: p.record.primaryIdentifier })));
  await markSynchronised(tx, plans.filter((p) => p.remember).map((p) => ({ id: p.user!.id, sisValues: p.row.sisValues, sisHash: p.row.sisHash })));
  for (const kind of ITEM_KINDS) {
    const changing = [...creates, ...updates].flatMap((p) => p.items.filter((c) => c.kind === kind).map((c) => ({ id: idOf(p), existing: !!p.user, change: c })));
    await replaceExternalItems(tx, institutionId, kind, changing.filter((c) => c.existing).map((c) => c.id),
      changing.flatMap((c) => c.change.items.map((item) => ({ ...item, userId: c.id }))), operator.label);
  }
  await insertPatronRoles(tx, institutionId, creates.map(idOf), operator.label);

  const history: HistoryChange[] = [];
  const events: DomainEvent[] = [];
  const event = (userId: string, eventType: 'USER_CREATED' | 'USER_UPDATED', payload: Record<string, unknown>) =>
    events.push({ institutionId, eventType, aggregateType: 'USER', aggregateId: userId, payload: { ...payload, source: owner }, actor: operator.label });
  for (const plan of creates) {
    history.push({ institutionId, userId: idOf(plan), field: 'record', oldValue: null, newValue: 'created', changedBy: operator.label });
    event(idOf(plan), 'USER_CREATED', {
      primaryIdentifier: plan.record.primaryIdentifier, recordType: plan.row.recordType, accountType: 'EXTERNAL',
      changes: [{ field: 'record', oldValue: null, newValue: 'created' }],
    });
  }
  for (const plan of updates) {
    const itemChanges = plan.items.filter((c) => c.kind !== 'statistics').map((c) => ({ field: c.kind, oldValue: c.oldText, newValue: c.newText }));
    const changes = [...plan.history, ...itemChanges];
    history.push(...changes.map((c) => ({ institutionId, userId: idOf(plan), changedBy: operator.label, ...c })));
    event(idOf(plan), 'USER_UPDATED', { fields: [...plan.changedFields, ...plan.items.map((c) => c.kind)], changes });
  }
  await recordHistory(tx, history);
  await appendEvents(tx, events);

  // R4.3: role assignment rules, as createUser and updateUser apply them, for the users whose job category or user group
  // is new, and only where some rule could match (most loads have none to apply).
  const ruleMatches = (p: RecordPlan) => reference.rules.some((r) =>
    (r.jobCategory === null || r.jobCategory === p.row.jobCategory) && (r.userGroup === null || r.userGroup === p.row.userGroup));
  const regrouped = (p: RecordPlan) => !p.user || p.changedFields.includes('userGroup') || p.changedFields.includes('jobCategory');
  await applyAssignmentRules(ctx, tx, [...creates, ...updates].filter((p) => regrouped(p) && ruleMatches(p)).map((p) => asUser(idOf(p), institutionId, p)));
  return plans.map((p) => outcome(p.record, !p.user ? 'CREATED' : isChange(p) ? 'UPDATED' : 'UNCHANGED', idOf(p)));
}

/** Whether a plan writes anything at all (the SIS's values of kept fields included). */
const writes = (plan: RecordPlan) => isChange(plan) || plan.remember;

/**
 * Each record all or nothing. The batch is planned (its users locked), then
 * written set-based inside a savepoint; when the database refuses that write
 * (a concurrent load took an identifier, a role rule beyond the operator's
 * grant), it is rolled back and every record is planned and written again on
 * its own, in its own savepoint, so the faulty one fails alone and the rest
 * land. A batch with nothing to write sends no savepoint at all.
 */
async function applyBatch(ctx: RequestContext, tx: EntityManager, operator: Operator, records: SisRecord[], identifierType: string | null, owner: string, reference: SyncReference) {
  const { plans, failures, unchanged } = await planRecords(ctx, tx, operator, records, identifierType, owner);
  if (!plans.some(writes)) return [...failures, ...unchanged, ...(await writePlans(ctx, tx, operator, plans, owner, reference))];
  await tx.query('SAVEPOINT sis_batch');
  try {
    const results = await writePlans(ctx, tx, operator, plans, owner, reference);
    await tx.query('RELEASE SAVEPOINT sis_batch');
    return [...failures, ...unchanged, ...results];
  } catch (e) {
    if (!recordFault(e)) throw e;
    await tx.query('ROLLBACK TO SAVEPOINT sis_batch');
  }
  const results: SyncRecordResult[] = [...failures, ...unchanged];
  for (const plan of plans) {
    const { record } = plan;
    await tx.query('SAVEPOINT sis_record');
    try {
      const one = await planRecords(ctx, tx, operator, [record], identifierType, owner);
      results.push(...one.failures, ...one.unchanged, ...(await writePlans(ctx, tx, operator, one.plans, owner, reference)));
      await tx.query('RELEASE SAVEPOINT sis_record');
    } catch (e) {
      const fault = recordFault(e);
      if (!fault) throw e;
      await tx.query('ROLLBACK TO SAVEPOINT sis_record');
      results.push(failure(record.position, record.primaryIdentifier, fault));
    }
  }
  return results;
}

/**
 * Identifier values one transaction may write. PostgreSQL's identifier-clash
 * trigger takes an advisory lock per value until commit, and the server's
 * lock table holds about 10,000 locks in all (64 per connection by default):
 * a call of 1,000 records with 20 identifiers each would exhaust it. Records
 * are all or nothing on their own, so a call is written in as many
 * transactions as its values need.
 */
const VALUES_PER_TRANSACTION = 3000;

function lockBoundedChunks(records: SisRecord[]): SisRecord[][] {
  const chunks: SisRecord[][] = [];
  let values = Infinity;
  for (const record of records) {
    const own = 1 + record.items.identifiers.length;
    if (values + own > VALUES_PER_TRANSACTION) {
      chunks.push([]);
      values = 0;
    }
    chunks[chunks.length - 1].push(record);
    values += own;
  }
  return chunks;
}

class DryRunRollback extends Error {
  constructor(readonly results: SyncRecordResult[]) {
    super('dry run');
  }
}

function report(dryRun: boolean, all: SyncRecordResult[]): SyncReport {
  // A dry run's new users were rolled back: their ids never existed.
  const results = dryRun ? all.map((r) => (r.outcome === 'CREATED' ? { ...r, userId: null } : r)) : all;
  const count = (o: SyncOutcome) => results.filter((r) => r.outcome === o).length;
  return {
    dryRun, created: count('CREATED'), updated: count('UPDATED'), unchanged: count('UNCHANGED'), failed: count('FAILED'),
    failures: results.filter((r) => r.outcome === 'FAILED'), results,
  };
}

/**
 * syncExternalUsers (R3.3, R3.4): checks every record on its own, then
 * plans and writes the good ones in one transaction per 3,000 identifier
 * values (see applyBatch and VALUES_PER_TRANSACTION), with
 * history and outbox events for what changed and nothing for what did not.
 * `reference` lets a caller that sends many batches (the file loader) read
 * the institution's codes and rules once.
 */
export async function syncExternalUsers(ctx: RequestContext, inputs: readonly ExternalUserInput[], options: SyncOptions, reference?: SyncReference): Promise<SyncReport> {
  const operator = ctx.policy.assert('user.sync');
  if (inputs.length > MAX_SYNC_RECORDS) throw badInput('records', `At most ${MAX_SYNC_RECORDS} records per call`, { limit: MAX_SYNC_RECORDS });
  const ref = reference ?? await loadSyncReference(ctx);
  const identifierType = checkOptions(options, ref);
  const owner = options.externalOwner.trim();
  const results: SyncRecordResult[] = [];
  const good: SisRecord[] = [];
  const claims = new Map<string, number>();
  inputs.forEach((input, position) => {
    try {
      const record = readSisRecord(input, position, ref.institution);
      checkRecordCodes(record, ref.codes);
      matchKeyOf(record, identifierType);
      claimBatchValues(record, claims);
      good.push(record);
    } catch (e) {
      if (!isKnownError(e)) throw e;
      results.push(failure(position, input.primaryIdentifier, e));
    }
  });
  for (const chunk of lockBoundedChunks(good)) {
    try {
      await inTransaction(ctx.db, async (tx) => {
        // Every statement of a sync is a keyed lookup or write. Statistics taken while the tables were small (a first
        // load into an empty institution) would make the planner scan whole tables for each batch. Indexes it is,
        // whatever the statistics say.
        await tx.query('SET LOCAL enable_seqscan = off');
        const applied = await applyBatch(ctx, tx, operator, chunk, identifierType, owner, ref);
        if (options.dryRun) throw new DryRunRollback(applied);
        results.push(...applied);
      });
    } catch (e) {
      if (!(e instanceof DryRunRollback)) throw e;
      results.push(...e.results);
    }
  }
  return report(options.dryRun, results.sort((a, b) => a.position - b.position));
}
