import type { Resolvers } from '../generated/graphql';
import { roleTypeInfo } from './role-types';

export const roleResolvers: Resolvers = {
  Role: {
    label: (role) => roleTypeInfo(role.roleType)?.label ?? role.roleType,
    scope: (role) => (role.scopeType ? role : null),
    active: (role) => role.isActive,
    countsAsNamedUser: (role) => roleTypeInfo(role.roleType)?.namedUser ?? false,
  },
  RoleScope: {
    type: (role) => role.scopeType!,
    library: (role, _args, ctx) => (role.scopeLibraryId ? ctx.loaders.libraryById.load(role.scopeLibraryId) : null),
    desk: (role, _args, ctx) => (role.scopeDeskId ? ctx.loaders.deskById.load(role.scopeDeskId) : null),
  },
};
