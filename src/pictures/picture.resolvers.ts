import type { Resolvers } from '../generated/graphql';
import { childrenOf } from '../users/user-children';
import { PRIMARY_IDENTIFIER_TYPE } from './photo-settings.validation';
import { getPhotoSettings, loadPhotoSettings, setPhotoSettings } from './photo-settings.service';
import { pictureUrl } from './picture-url';

export const pictureResolvers: Resolvers = {
  Query: {
    photoSettings: (_parent, _args, ctx) => getPhotoSettings(ctx),
  },
  Mutation: {
    setPhotoSettings: (_parent, { input }, ctx) => setPhotoSettings(ctx, input),
  },
  User: {
    pictureUrl: async (user, _args, ctx) => {
      const settings = await loadPhotoSettings(ctx);
      if (settings.photoServerUrl === null) return null;
      const identifiers = settings.photoIdentifierType === PRIMARY_IDENTIFIER_TYPE ? [] : await childrenOf(user, 'identifiersByUser', ctx.loaders);
      return pictureUrl(settings, { primaryIdentifier: user.primaryIdentifier, identifiers });
    },
  },
};
