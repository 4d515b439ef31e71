import type { Resolvers } from '../generated/graphql';
import { isInForce } from '../policy/role-power';
import { createAssignmentRule, createRoleProfile, deleteAssignmentRule, deleteRoleProfile, listAssignmentRules, listRoleProfiles, updateRoleProfile } from './role-profile.service';
import { ROLE_TYPES, roleTypeInfo } from './role-types';
import { assignRole, assignRoleProfile, removeRole, setRoleActive, setUserRoles } from './role.service';

const label = (role: { roleType: string }) => roleTypeInfo(role.roleType)?.label ?? role.roleType;

export const roleResolvers: Resolvers = {
  Query: {
    roleTypes: (_parent, _args, ctx) => {
      ctx.policy.authenticated();
      return [...ROLE_TYPES];
    },
    roleProfiles: (_parent, _args, ctx) => listRoleProfiles(ctx),
    roleAssignmentRules: (_parent, _args, ctx) => listAssignmentRules(ctx),
  },
  Mutation: {
    assignRole: (_parent, { userId, input }, ctx) => assignRole(ctx, userId, input),
    removeRole: (_parent, { roleId }, ctx) => removeRole(ctx, roleId),
    setUserRoles: (_parent, { userId, roles }, ctx) => setUserRoles(ctx, userId, roles),
    setRoleActive: (_parent, { roleId, active }, ctx) => setRoleActive(ctx, roleId, active),
    assignRoleProfile: (_parent, { userId, profileId }, ctx) => assignRoleProfile(ctx, userId, profileId),
    createRoleProfile: (_parent, { input }, ctx) => createRoleProfile(ctx, input),
    updateRoleProfile: (_parent, { id, input }, ctx) => updateRoleProfile(ctx, id, input),
    deleteRoleProfile: (_parent, { id }, ctx) => deleteRoleProfile(ctx, id),
    createRoleAssignmentRule: (_parent, { input }, ctx) => createAssignmentRule(ctx, input),
    deleteRoleAssignmentRule: (_parent, { id }, ctx) => deleteAssignmentRule(ctx, id),
  },
  RoleType: {
    countsAsNamedUser: (info) => info.namedUser,
  },
  Role: {
    label,
    scope: (role) => (role.scopeType ? role : null),
    active: (role) => isInForce(role),
    countsAsNamedUser: (role) => roleTypeInfo(role.roleType)?.namedUser ?? false,
  },
  RoleProfile: {
    roles: (profile, _args, ctx) => ctx.loaders.entriesByProfile.load(profile.id),
  },
  RoleProfileEntry: {
    label,
    scope: (entry) => (entry.scopeType ? entry : null),
  },
  RoleAssignmentRule: {
    profile: async (rule, _args, ctx) => (await ctx.loaders.profileById.load(rule.profileId))!,
  },
  RoleScope: {
    type: (scope) => scope.scopeType!,
    library: (scope, _args, ctx) => (scope.scopeLibraryId ? ctx.loaders.libraryById.load(scope.scopeLibraryId) : null),
    desk: (scope, _args, ctx) => (scope.scopeDeskId ? ctx.loaders.deskById.load(scope.scopeDeskId) : null),
  },
};
