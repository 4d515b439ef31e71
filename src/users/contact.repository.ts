import type { EntityManager, ObjectLiteral, EntityTarget } from 'typeorm';
import { UserAddress, UserEmail, UserIdentifier, UserPhone } from '../db/entities';

/** Children of many users at once (one statement), preferred items first. */
function childrenOf<T extends ObjectLiteral>(entity: EntityTarget<T>, preferredColumn: string | null) {
  return (db: EntityManager, institutionId: string, userIds: string[]): Promise<T[]> => {
    const qb = db.getRepository(entity).createQueryBuilder('c')
      .where('c.institution_id = :institutionId AND c.user_id = ANY(:userIds::uuid[])', { institutionId, userIds });
    if (preferredColumn) qb.orderBy(`c.${preferredColumn}`, 'DESC');
    return qb.addOrderBy('c.id', 'ASC').getMany();
  };
}

export const findIdentifiersOf = childrenOf(UserIdentifier, null);
export const findEmailsOf = childrenOf(UserEmail, 'is_preferred');
export const findAddressesOf = childrenOf(UserAddress, 'is_preferred');
export const findPhonesOf = childrenOf(UserPhone, 'is_preferred');
