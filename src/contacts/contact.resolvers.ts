import type { Resolvers } from '../generated/graphql';
import { ADDRESS, EMAIL, PHONE } from './contact-kinds';
import { addContact, removeContact, updateContact } from './contact.service';

export const contactResolvers: Resolvers = {
  Mutation: {
    addEmail: (_parent, { userId, input }, ctx) => addContact(ctx, EMAIL, userId, input),
    updateEmail: (_parent, { id, input }, ctx) => updateContact(ctx, EMAIL, id, input),
    removeEmail: (_parent, { id }, ctx) => removeContact(ctx, EMAIL, id),
    addAddress: (_parent, { userId, input }, ctx) => addContact(ctx, ADDRESS, userId, input),
    updateAddress: (_parent, { id, input }, ctx) => updateContact(ctx, ADDRESS, id, input),
    removeAddress: (_parent, { id }, ctx) => removeContact(ctx, ADDRESS, id),
    addPhone: (_parent, { userId, input }, ctx) => addContact(ctx, PHONE, userId, input),
    updatePhone: (_parent, { id, input }, ctx) => updateContact(ctx, PHONE, id, input),
    removePhone: (_parent, { id }, ctx) => removeContact(ctx, PHONE, id),
  },
};
