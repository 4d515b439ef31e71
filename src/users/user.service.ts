import { connectionOf, pageSize } from '../common/connection';
import type { EntityManager } from 'typeorm';
import { hashPassword } from '../auth/password';
import { badInput, notFound } from '../common/errors';
import type { RequestContext } from '../context';
import { inTransaction } from '../db/transaction';
import { RoleAssignment, User, UserAddress, UserEmail, UserIdentifier, UserPhone } from '../db/entities';
import { appendEvents } from '../events/outbox.repository';
import type { CreateUserInput, UserSort, UsersFilter } from '../generated/graphql';
import { recordHistory } from '../history/history.repository';
import { applyAssignmentRules } from '../roles/role.service';
import { linkFulfillmentProxy } from '../proxies/fulfillment-proxy';
import { findExistingCodes, findInstitution } from '../institutions/institution.repository';
import { CursorOrder, decodeCursor, encodeCursor } from '../common/cursor';
import { isUuid } from '../common/uuid';
import { identifierTaken } from '../identifiers/identifier-conflict';
import { findTakenIdentifiers } from '../identifiers/identifier.repository';
import { checkUserCodes } from './user-codes';
import { countUsers, findPossibleDuplicates, findUserByIdentifier, findUserPage, SORT_KEYS } from './user.repository';
import { checkNameSearch } from './user-search.validation';
import { NO_READ_AHEAD, ReadAhead } from './user-children';
import { NewUserDraft, validateNewUser } from './user.validation';

const MAX_PAGE = 100;

export async function getUser(ctx: RequestContext, id: string): Promise<User | null> {
  ctx.policy.assert('user.read');
  if (!isUuid(id)) return null;
  return ctx.loaders.userById.load(id);
}

/** The database, institution and owner scope the request's reads are bound to (the loaders' too). */
function readScope(ctx: RequestContext, institutionId: string) {
  return { db: ctx.db.manager, institutionId, scope: ctx.policy.ownerScope() };
}

/** `ahead`: the columns and children the query selects, read in the same statement (user-children.ts). */
export async function getUserByIdentifier(ctx: RequestContext, value: string, ahead: ReadAhead = NO_READ_AHEAD): Promise<User | null> {
  const operator = ctx.policy.assert('user.read');
  if (!value.trim()) throw badInput('value', 'The identifier is empty');
  return findUserByIdentifier(readScope(ctx, operator.institutionId), value.trim(), ahead);
}

export type UserPage = Awaited<ReturnType<typeof listUsers>>;

/** A page of users as a Relay connection; totalCount is counted only when asked for. */
export async function listUsers(
  ctx: RequestContext,
  args: { first?: number | null; after?: string | null; filter?: UsersFilter | null; sort?: UserSort | null },
  ahead: ReadAhead = NO_READ_AHEAD,
) {
  const operator = ctx.policy.assert('user.read');
  const first = pageSize(args.first, MAX_PAGE);
  const sort = { field: args.sort?.field ?? 'NAME', direction: args.sort?.direction ?? 'ASC' } as const;
  const order: CursorOrder = { name: `${sort.field}:${sort.direction}`, key: SORT_KEYS[sort.field].cast, id: 'uuid' };
  const after = args.after ? decodeCursor(args.after, 'after', order) : null;
  const filter = args.filter ?? {};
  checkNameSearch(filter.name);
  const on = readScope(ctx, operator.institutionId);
  const users = await findUserPage(on, { filter, sort, first, after }, ahead);
  // Rows read with some columns only are not what userById gives: only whole rows are shared with it.
  if (!ahead.columns) for (const user of users.slice(0, first)) ctx.loaders.userById.prime(user.id, user);
  return {
    ...connectionOf(users, first, (user) => encodeCursor(order, { key: user.sortKey, id: user.id })),
    totalCount: () => countUsers(ctx.db.manager, operator.institutionId, filter, on.scope),
  };
}

/** Rules that need the database: configured codes and libraries exist, identifier types are configured, identifiers are free. */
async function checkAgainstDatabase(db: EntityManager, institutionId: string, input: CreateUserInput, draft: NewUserDraft) {
  await checkUserCodes(db, institutionId, { ...input, ...draft }, input);
  const types = [...new Set(draft.identifiers.map((i) => i.type))];
  const knownTypes = await findExistingCodes(db, institutionId, 'IDENTIFIER_TYPE', types);
  draft.identifiers.forEach((identifier, i) => {
    if (!knownTypes.includes(identifier.type)) throw badInput(`input.identifiers[${i}].type`, `"${identifier.type}" is not a configured identifier type`);
  });
  const taken = await findTakenIdentifiers(db, institutionId, {
    primary: draft.primaryIdentifier,
    additional: draft.identifiers.map((i) => i.value),
  });
  const primary = taken.find((t) => draft.primaryIdentifier !== null && t.value === draft.primaryIdentifier);
  if (primary) throw identifierTaken('input.primaryIdentifier', null, primary, null);
  const index = draft.identifiers.findIndex((i) => taken.some((t) => t.value === i.value));
  if (index >= 0) {
    const identifier = draft.identifiers[index];
    throw identifierTaken(`input.identifiers[${index}].value`, identifier.type, taken.find((t) => t.value === identifier.value)!, null);
  }
}

/** Writes the user and its children; the caller owns the transaction. */
async function insertUser(tx: EntityManager, institutionId: string, actor: string, input: CreateUserInput, draft: NewUserDraft, passwordHash: string | null) {
  const user = await tx.getRepository(User).save(
    tx.getRepository(User).create({
      institutionId,
      recordType: draft.recordType,
      accountType: draft.accountType,
      externalOwner: draft.externalOwner,
      primaryIdentifier: draft.primaryIdentifier,
      firstName: draft.firstName,
      middleName: draft.middleName,
      lastName: draft.lastName,
      preferredFirstName: draft.preferredFirstName,
      preferredMiddleName: draft.preferredMiddleName,
      preferredLastName: draft.preferredLastName,
      title: input.title ?? null,
      pinNumber: input.pinNumber ?? null,
      jobCategory: input.jobCategory ?? null,
      jobDescription: input.jobDescription ?? null,
      gender: input.gender ?? null,
      userGroup: input.userGroup ?? null,
      campus: input.campus ?? null,
      websiteUrl: input.websiteUrl ?? null,
      preferredLanguage: input.preferredLanguage ?? null,
      birthDate: input.birthDate ?? null,
      expiryDate: input.expiryDate ?? null,
      purgeDate: input.purgeDate ?? null,
      resourceSharingLibraries: draft.resourceSharingLibraries,
      purchaseRequestLibraries: draft.purchaseRequestLibraries,
      catalogerLevel: input.catalogerLevel ?? null,
      patronLetters: draft.patronLetters,
      passwordHash,
      forcePasswordChange: input.forcePasswordChange ?? false,
      isRestricted: input.restricted ?? false,
      createdBy: actor,
      updatedBy: actor,
    }),
  );
  const owned = { institutionId, userId: user.id };
  await tx.getRepository(UserIdentifier).insert(
    draft.identifiers.map((i) => ({ ...owned, idType: i.type, value: i.value, note: i.note ?? null })),
  );
  await tx.getRepository(UserEmail).insert(
    draft.emails.map((e) => ({ ...owned, address: e.address, emailType: e.type, description: e.description ?? null, isPreferred: e.preferred, startDate: e.startDate ?? null, endDate: e.endDate ?? null })),
  );
  await tx.getRepository(UserAddress).insert(
    draft.addresses.map((a) => ({
      ...owned, addressType: a.type, line1: a.line1.trim(), line2: a.line2 ?? null, line3: a.line3 ?? null, city: a.city ?? null,
      stateProvince: a.stateProvince ?? null, postalCode: a.postalCode ?? null, country: a.country ?? null, note: a.note ?? null,
      isPreferred: a.preferred, startDate: a.startDate ?? null, endDate: a.endDate ?? null,
    })),
  );
  await tx.getRepository(UserPhone).insert(
    draft.phones.map((p) => ({ ...owned, phoneNumber: p.number.trim(), phoneType: p.type, isPreferred: p.preferred, startDate: p.startDate ?? null, endDate: p.endDate ?? null })),
  );
  // Every patron and staff member holds the Patron role, as the seeds' platform assigns it to new users.
  if (draft.recordType !== 'CONTACT') {
    await tx.getRepository(RoleAssignment).insert({ ...owned, roleType: 'PATRON', scopeType: 'INSTITUTION', isActive: true, createdBy: actor });
  }
  return user;
}

/** createUser (R1, R2): validation, then the user, identifiers, contact info, history and event in one transaction. */
export async function createUser(ctx: RequestContext, input: CreateUserInput) {
  const operator = ctx.policy.assert('user.create', { recordType: input.recordType });
  const institution = await findInstitution(ctx.db.manager, operator.institutionId);
  if (!institution) throw notFound('The operator’s institution no longer exists');
  const draft = validateNewUser(input, institution);
  await checkAgainstDatabase(ctx.db.manager, institution.id, input, draft);
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  const duplicates = draft.firstName && draft.lastName && input.birthDate
    ? await findPossibleDuplicates(ctx.db.manager, institution.id, { firstName: draft.firstName, lastName: draft.lastName, birthDate: input.birthDate })
    : [];
  const user = await inTransaction(ctx.db, async (tx) => {
    const created = await insertUser(tx, institution.id, operator.label, input, draft, passwordHash);
    await applyAssignmentRules(ctx, tx, [created]);
    await recordHistory(tx, [{ institutionId: institution.id, userId: created.id, field: 'record', oldValue: null, newValue: 'created', changedBy: operator.label }]);
    await appendEvents(tx, [{
      institutionId: institution.id,
      eventType: 'USER_CREATED',
      aggregateType: 'USER',
      aggregateId: created.id,
      payload: {
        primaryIdentifier: created.primaryIdentifier, recordType: created.recordType, accountType: created.accountType,
        changes: [{ field: 'record', oldValue: null, newValue: 'created' }],
      },
      actor: operator.label,
    }]);
    // Last, so the proxy's history and events follow USER_CREATED; a refused sponsor rolls the whole user back.
    if (input.fulfillmentProxyFor != null) await linkFulfillmentProxy(ctx, tx, created, input.fulfillmentProxyFor);
    return created;
  });
  return {
    user,
    duplicateWarning: duplicates.length > 0
      ? { message: `${duplicates.length} user(s) already have this first name, last name and birth date (R1.6)`, users: duplicates }
      : null,
  };
}
