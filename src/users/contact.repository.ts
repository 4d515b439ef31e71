import type { EntityTarget, ObjectLiteral } from 'typeorm';
import { ChildSet, childRows, institutionParam } from '../db/child-rows';
import type { ColumnRule } from '../db/columns-for';
import { UserAddress, UserEmail, UserIdentifier, UserPhone } from '../db/entities';

/** A user's items of one kind (src/db/child-rows.ts), preferred items first. */
function ofUser<T extends ObjectLiteral>(entity: EntityTarget<T>, table: string, preferredColumn: string | null, computed: ColumnRule['computed']): ChildSet<T[]> {
  return childRows(entity, 'c', {
    from: `${table} c`,
    where: (parent, p, on) => `c.institution_id = ${institutionParam(p, on)} AND c.user_id = ${parent}`,
    order: preferredColumn ? `c.${preferredColumn} DESC, c.id ASC` : 'c.id ASC',
    // The field guard reads userId (a user's own items); the rest as the resolvers rename them (contact.resolvers.ts).
    columns: { always: ['userId'], computed },
  });
}

const flags = { preferred: ['isPreferred'], external: ['isExternal'] };
export const identifiersOfUser = ofUser(UserIdentifier, 'user_identifier', null, { type: ['idType'], external: ['isExternal'] });
export const emailsOfUser = ofUser(UserEmail, 'user_email', 'is_preferred', { type: ['emailType'], ...flags });
export const addressesOfUser = ofUser(UserAddress, 'user_address', 'is_preferred', { type: ['addressType'], ...flags });
export const phonesOfUser = ofUser(UserPhone, 'user_phone', 'is_preferred', { number: ['phoneNumber'], type: ['phoneType'], ...flags });
