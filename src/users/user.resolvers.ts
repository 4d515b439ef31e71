import { isBlockActive } from '../blocks/block.repository';
import type { Resolvers } from '../generated/graphql';
import { isProtectedAccount } from '../policy/protected-accounts';
import { displayName, isActiveNotExpired } from './user-fields';
import { childrenOf, NO_READ_AHEAD, readAheadFor, whenRead } from './user-children';
import { createUser, getUser, getUserByIdentifier, listUsers } from './user.service';

export const userResolvers: Resolvers = {
  Query: {
    user: (_parent, { id }, ctx) => getUser(ctx, id),
    // Reading ahead, the user's children the query selects are read in the user's own statement (user-children.ts).
    userByIdentifier: (_parent, { value }, ctx, info) => getUserByIdentifier(ctx, value, ctx.readAhead ? readAheadFor(ctx.db.manager, info, []) : NO_READ_AHEAD),
    users: (_parent, args, ctx, info) => listUsers(ctx, args, ctx.readAhead ? readAheadFor(ctx.db.manager, info, ['edges', 'node']) : NO_READ_AHEAD),
  },
  Mutation: {
    createUser: (_parent, { input }, ctx) => createUser(ctx, input),
  },
  UserConnection: {
    totalCount: (page) => page.totalCount(),
  },
  User: {
    // A purged user's stub has no names left (R10.3).
    displayName: (user) => (user.purgedAt ? 'Purged user' : displayName(user)),
    hasPassword: (user) => user.passwordHash !== null,
    restricted: (user) => user.isRestricted,
    protected: (user) => isProtectedAccount(user.primaryIdentifier),
    activeNotExpired: (user) => isActiveNotExpired(user),
    identifiers: (user, _args, ctx) => childrenOf(user, 'identifiersByUser', ctx.loaders),
    emails: (user, _args, ctx) => childrenOf(user, 'emailsByUser', ctx.loaders),
    addresses: (user, _args, ctx) => childrenOf(user, 'addressesByUser', ctx.loaders),
    phones: (user, _args, ctx) => childrenOf(user, 'phonesByUser', ctx.loaders),
    roles: (user, _args, ctx) => childrenOf(user, 'rolesByUser', ctx.loaders),
    blocks: (user, { activeOnly }, ctx) => whenRead(childrenOf(user, 'blocksByUser', ctx.loaders), (blocks) => (activeOnly === false ? blocks : blocks.filter((b) => isBlockActive(b)))),
    hasActiveBlock: (user, _args, ctx) => whenRead(childrenOf(user, 'blocksByUser', ctx.loaders), (blocks) => blocks.some((b) => isBlockActive(b))),
    fineSummary: (user, _args, ctx) => childrenOf(user, 'fineSummaryByUser', ctx.loaders),
    proxyFor: (user, _args, ctx) => ctx.loaders.proxyLinksByProxy.load(user.id),
  },
  Identifier: {
    type: (i) => i.idType,
    external: (i) => i.isExternal,
  },
  Email: {
    type: (e) => e.emailType,
    preferred: (e) => e.isPreferred,
    external: (e) => e.isExternal,
  },
  Address: {
    type: (a) => a.addressType,
    preferred: (a) => a.isPreferred,
    external: (a) => a.isExternal,
  },
  Phone: {
    number: (p) => p.phoneNumber,
    type: (p) => p.phoneType,
    preferred: (p) => p.isPreferred,
    external: (p) => p.isExternal,
  },
};
