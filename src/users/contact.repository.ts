import type { EntityTarget, ObjectLiteral } from 'typeorm';
import { ChildSet, childRows, institutionParam } from '../db/child-rows';
import { UserAddress, UserEmail, UserIdentifier, UserPhone } from '../db/entities';

/** A user's items of one kind (src/db/child-rows.ts), preferred items first. */
function ofUser<T extends ObjectLiteral>(entity: EntityTarget<T>, table: string, preferredColumn: string | null): ChildSet<T[]> {
  return childRows(entity, 'c', {
    from: `${table} c`,
    where: (parent, p, on) => `c.institution_id = ${institutionParam(p, on)} AND c.user_id = ${parent}`,
    order: preferredColumn ? `c.${preferredColumn} DESC, c.id ASC` : 'c.id ASC',
  });
}

export const identifiersOfUser = ofUser(UserIdentifier, 'user_identifier', null);
export const emailsOfUser = ofUser(UserEmail, 'user_email', 'is_preferred');
export const addressesOfUser = ofUser(UserAddress, 'user_address', 'is_preferred');
export const phonesOfUser = ofUser(UserPhone, 'user_phone', 'is_preferred');
